// One call to a Whisper-compatible transcription deployment
// (POST .../audio/transcriptions, multipart/form-data).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <string>

#include "huntaze/ai_router/catalog.hpp"
#include "huntaze/ai_router/router.hpp"
#include "huntaze/http/client.hpp"

namespace huntaze::ai_router {

// The multipart body and its boundary (which never occurs in the audio).
std::pair<std::string, std::string> transcription_body(const Deployment& deployment, const TranscribeRequest& request);

// Returns the text. Throws UpstreamFailed (upstream.hpp) like call_chat.
boost::asio::awaitable<std::string> call_transcription(http::HttpClient& client, const Deployment& deployment,
                                                       const TranscribeRequest& request,
                                                       std::chrono::milliseconds timeout);

}  // namespace huntaze::ai_router

// Small pieces every content route uses: the role requirement, the AI
// failure mapping, and the shared JSON conventions of http/json_api.hpp.
//
// Thread-safety: pure functions.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "huntaze/core/clock.hpp"
#include "huntaze/core/uuid.hpp"
#include "huntaze/ai_router/router.hpp"
#include "huntaze/auth/access.hpp"
#include "huntaze/core/error.hpp"
#include "huntaze/http/json_api.hpp"
#include "huntaze/http/message.hpp"

namespace huntaze::content {

using auth::need;

// The shared JSON conventions (huntaze/http/json_api.hpp), by their short names.
using http::json_response;
using http::encode_cursor;
using http::parse_object;
using http::page_json;
using http::path_uuid;
using http::page_limit;
using http::page_cursor;
using http::cursor_time;
using http::cursor_uuid;
using http::cursor_int;
using http::cursor_value;
using http::time_or_null;
using http::text_or_null;
using http::strings_json;
using http::time_query;
using http::word_query;

// An AI router failure as the API's error: its status and kind, with
// Retry-After for rate limits; a task with no route is the operator's
// configuration (503 ai_not_configured), not the caller's mistake.
ApiError ai_failure(const ai_router::AiError& e);

}  // namespace huntaze::content

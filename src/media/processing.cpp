#include "media/processing.hpp"

#include <boost/json.hpp>

#include "huntaze/core/log.hpp"
#include "huntaze/core/strings.hpp"
#include "huntaze/jobs/job.hpp"
#include "media/analysis.hpp"
#include "media/audio_track.hpp"
#include "media/keyframe_grid.hpp"
#include "media/media_failure.hpp"

namespace huntaze::media {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

// What the compute pool makes from the file.
struct Made {
  GridResult grid;
  std::optional<AudioTrack> audio;
};

bool transient(const ai_router::AiError& e) {
  using K = ai_router::AiError::Kind;
  return e.kind() == K::unavailable || e.kind() == K::rate_limited || e.kind() == K::deadline;
}

std::string ai_note(std::string_view stage, const ai_router::AiError& e) {
  if (e.kind() == ai_router::AiError::Kind::unknown_task)
    return std::string(stage) + ": not configured (no `" +
           std::string(stage == "transcript" ? "transcribe" : "vision") + "` route)";
  return std::string(stage) + ": " + std::string(ai_router::to_string(e.kind()));
}

json::object probe_json(const Made& made) {
  const VideoInfo& v = made.grid.info;
  json::array cells;
  for (const auto& c : made.grid.cells) cells.push_back(json::value(c.seconds));
  json::object o{{"container", v.container},
                 {"duration_seconds", v.duration_seconds},
                 {"video_codec", v.video_codec},
                 {"width", v.display_width},
                 {"height", v.display_height},
                 {"coded_width", v.width},
                 {"coded_height", v.height},
                 {"rotation", v.rotation},
                 {"orientation", v.display_height > v.display_width ? "vertical" : "horizontal"},
                 {"frame_rate", v.frame_rate},
                 {"bit_rate", v.bit_rate},
                 {"streams", v.streams},
                 {"has_audio", v.has_audio},
                 {"audio_codec", v.has_audio ? json::value(v.audio_codec) : json::value(nullptr)},
                 {"grid", json::object{{"method", made.grid.method},
                                       {"width", made.grid.grid_width},
                                       {"height", made.grid.grid_height},
                                       {"frames", cells}}},
                 {"poster", json::object{{"width", made.grid.poster_width}, {"height", made.grid.poster_height}}}};
  return o;
}

}  // namespace

std::string asset_key(Uuid workspace, Uuid asset, std::string_view name) {
  return "ws/" + workspace.str() + "/" + asset.str() + "/" + std::string(name);
}

Processor::Processor(Assets& assets, storage::BlobStore& store, Compute& compute, ai_router::AiRouter& router,
                     const MediaConfig& config)
    : assets_(assets), store_(store), compute_(compute), router_(router), config_(config) {}

asio::awaitable<void> Processor::run(jobs::JobContext& job) {
  const Uuid id = asset_id_of(job);
  const std::string request_id = "media:" + id.str();

  auto claim = co_await assets_.claim(id);
  if (!claim) co_return;  // deleted, or finished by an earlier attempt
  const Uuid ws = claim->workspace;
  if (!claim->original_key) {
    co_await assets_.finish_failed(id, "original_missing", "the original file was deleted");
    co_return;
  }
  std::exception_ptr error;
  try {
    std::optional<storage::LocalCopy> copy;
    bool missing = false;
    try {
      copy = co_await store_.local_copy(*claim->original_key);
    } catch (const storage::BlobNotFound&) {
      missing = true;
    }
    if (missing) {
      co_await assets_.finish_failed(id, "original_missing", "the original file is not in storage");
      co_return;
    }

    // CPU stages on the pool; the grid's decoders spread over it too.
    const auto deadline = std::chrono::steady_clock::now() + config_.processing_deadline;
    std::optional<MediaFailure> refused;
    std::optional<Made> made;
    auto make = [&] {
      GridOptions options = config_.grid;
      options.workers = config_.grid.workers > 0 ? config_.grid.workers : compute_.threads();
      options.deadline =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      Made out;
      out.grid =
          make_grid(copy->path(), config_.policy, options,
                    [this](int parts, const std::function<void(int)>& part) { compute_.parallel_for(parts, part); });
      const VideoInfo& info = out.grid.info;
      if (config_.transcript.enabled && info.has_audio && audio_accepted(config_.policy, info) &&
          info.duration_seconds >= config_.transcript.min_audio_seconds) {
        AudioOptions audio;
        audio.max_seconds = config_.transcript.max_seconds;
        audio.deadline =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        try {
          out.audio = extract_audio(copy->path(), config_.policy, audio);
        } catch (const MediaFailure& f) {
          // The pictures are fine: a broken audio track costs the
          // transcript only.
          log::info("media audio skipped", {{"asset_id", id.str()}, {"code", f.code()}});
        }
      }
      return out;
    };
    try {
      made = co_await compute_.run(make);
    } catch (const MediaFailure& f) {
      refused = f;
    }
    // A temporary download (S3) is not needed past this point, and deleting
    // a file of gigabytes is disk work: done on the pool.
    auto discard = [&] { copy.reset(); };
    co_await compute_.run(discard);
    if (refused) {
      const std::string reason = refused->what();
      co_await assets_.finish_failed(id, refused->code(), reason);
      co_return;
    }

    Assets::Outcome outcome;
    outcome.grid_key = asset_key(ws, id, "grid.jpg");
    outcome.poster_key = asset_key(ws, id, "poster.jpg");
    outcome.derived_bytes = static_cast<int64_t>(made->grid.grid_jpeg.size() + made->grid.poster_jpeg.size());
    co_await store_.put_bytes(outcome.grid_key, made->grid.grid_jpeg, "image/jpeg");
    co_await store_.put_bytes(outcome.poster_key, made->grid.poster_jpeg, "image/jpeg");
    co_await job.heartbeat();

    std::vector<std::string> notes;
    const bool last_attempt = job.attempt() >= job.max_attempts();
    if (made->audio && made->audio->seconds >= config_.transcript.min_audio_seconds) {
      ai_router::TranscribeRequest request;
      request.audio = std::move(made->audio->wav);
      request.workspace = ws.str();
      request.request_id = request_id;
      std::optional<ai_router::AiError> failed;
      try {
        auto transcript = co_await router_.transcribe(std::move(request));
        outcome.transcript = transcript.text;
      } catch (const ai_router::AiError& e) {
        failed = e;
      }
      if (failed && transient(*failed) && !last_attempt) throw *failed;
      if (failed) notes.push_back(ai_note("transcript", *failed));
    }

    if (config_.analysis) {
      std::vector<double> seconds;
      for (const auto& c : made->grid.cells) seconds.push_back(c.seconds);
      ai_router::AiRequest request =
          vision_request(VisionInput{made->grid.info, made->grid.grid_jpeg, seconds, outcome.transcript});
      request.workspace = ws.str();
      request.request_id = request_id;
      std::optional<ai_router::AiError> failed;
      std::string invalid;
      try {
        auto answer = co_await router_.complete(std::move(request));
        outcome.analysis_json = validate_analysis(answer.content);
      } catch (const ai_router::AiError& e) {
        failed = e;
      } catch (const AnalysisInvalid& e) {
        invalid = e.what();
      }
      if (failed && transient(*failed) && !last_attempt) throw *failed;
      if (failed) notes.push_back(ai_note("analysis", *failed));
      if (!invalid.empty()) notes.push_back("analysis: the model's answer was not valid (" + invalid + ")");
    }
    if (!notes.empty()) outcome.analysis_error = join(notes, "; ");

    json::object probe = probe_json(*made);
    outcome.probe_json = json::serialize(probe);
    outcome.event_data = json::serialize(json::object{{"id", id.str()},
                                                      {"workspace_id", ws.str()},
                                                      {"duration_seconds", made->grid.info.duration_seconds},
                                                      {"width", made->grid.info.display_width},
                                                      {"height", made->grid.info.display_height},
                                                      {"analysis", outcome.analysis_json.has_value()}});
    // A rendition only when it can be smaller than what was uploaded.
    outcome.rendition = config_.rendition.enabled && claim->size_bytes > config_.rendition.target_bytes;
    const auto finished = co_await assets_.finish_ready(id, outcome);
    if (finished == Assets::Finish::deleted) {
      // Deleted while it was processed: the grid and poster stored above
      // belong to nothing now.
      co_await store_.remove(outcome.grid_key);
      co_await store_.remove(outcome.poster_key);
    }
  } catch (const jobs::JobCancelled&) {
    throw;  // the job system hands it back; the asset stays processing for the next attempt
  } catch (...) {
    error = std::current_exception();
  }
  if (!error) co_return;
  if (job.attempt() >= job.max_attempts()) {
    std::string what = "processing failed";
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    log::error("media processing failed for good", {{"asset_id", id.str()}, {"error", what}});
    const std::string reason = "processing failed " + std::to_string(job.attempt()) + " times; reprocess to try again";
    co_await assets_.finish_failed(id, "processing_error", reason);
  }
  std::rethrow_exception(error);
}

}  // namespace huntaze::media

// What a prompt sample keeps of a request: messages and output parameters,
// and of an image only its kind and size (a data: URL is the whole file).
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "ai_router/prompt_samples.hpp"

using namespace huntaze::ai_router;
namespace json = boost::json;

TEST_CASE("sample_request_json keeps messages and parameters, not image bytes", "[ai_samples]") {
  AiRequest r;
  r.task = "vision";
  r.messages = {{"system", "Describe the video.", {}},
                {"user", "Here is the grid", {"data:image/jpeg;base64," + std::string(100'000, 'A'),
                                              "https://cdn.example.com/grid.jpg"}}};
  r.params.temperature = 0.2;
  r.params.max_tokens = 300;
  r.params.stop = {"END"};
  r.params.json = true;
  r.workspace = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";

  const auto text = sample_request_json(r);
  CHECK(text.size() < 1000);
  const auto doc = json::parse(text).as_object();
  CHECK(doc.at("task") == "vision");
  const auto& messages = doc.at("messages").as_array();
  REQUIRE(messages.size() == 2);
  CHECK(messages[0].at("role") == "system");
  CHECK(messages[0].at("content") == "Describe the video.");
  CHECK_FALSE(messages[0].as_object().contains("images"));
  const auto& images = messages[1].at("images").as_array();
  REQUIRE(images.size() == 2);
  CHECK(images[0] == "data:image/jpeg;base64 (100023 bytes)");
  CHECK(images[1] == "https://cdn.example.com/grid.jpg");
  CHECK(doc.at("temperature").as_double() == 0.2);
  CHECK(doc.at("max_tokens") == 300);
  CHECK(doc.at("stop").as_array().at(0) == "END");
  CHECK(doc.at("json") == true);
  CHECK_FALSE(doc.contains("top_p"));
  CHECK_FALSE(doc.contains("workspace"));  // the sample row has its own column
}

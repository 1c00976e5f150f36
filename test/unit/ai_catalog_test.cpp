// The `ai:` model catalog: the shipped defaults, per-field overrides, extra
// deployments sharing an alias, and the mistakes it refuses.
#include <catch2/catch.hpp>

#include "huntaze/ai_router/catalog.hpp"
#include "support/config_parse.hpp"

using namespace huntaze;
using namespace huntaze::ai_router;
using Catch::Matchers::Contains;

namespace {

Catalog parse(const std::string& yaml) {
  return test::parse_section(yaml, "ai", parse_catalog);
}

std::string error_of(const std::string& yaml) {
  return test::config_error([&] { parse(yaml); });
}

const Deployment& named(const Catalog& c, const std::string& name) {
  for (const auto& d : c.deployments)
    if (d.name == name) return d;
  FAIL("no deployment " << name);
  throw;
}

}  // namespace

TEST_CASE("ai catalog: the defaults route every task and only the offline templates are usable", "[ai][catalog]") {
  auto c = parse("");
  CHECK(c.routes == default_routes());
  CHECK(c.routes.at("generate") == std::vector<std::string>{"deepseek-v3", "llama-3.3-70b", "templates"});
  int usable = 0;
  for (const auto& d : c.deployments) usable += d.usable() ? 1 : 0;
  CHECK(usable == 1);
  CHECK(named(c, "templates").usable());
  CHECK(named(c, "phi-4-multimodal").can(kVision));
  CHECK_FALSE(named(c, "phi-4-mini").can(kVision));
  CHECK(named(c, "whisper").provider == Provider::openai_audio);
}

TEST_CASE("ai catalog: an operator fills in endpoint and key, extra deployments share an alias", "[ai][catalog]") {
  auto c = parse(R"(
ai:
  deployments:
    deepseek-v3:
      endpoint: https://eastus.services.ai.azure.com/models/chat/completions
      key: k-east
    deepseek-v3-westus:
      alias: deepseek-v3
      provider: openai
      endpoint: https://westus.services.ai.azure.com/models/chat/completions
      api_version: 2024-05-01-preview
      auth: api-key
      key: k-west
      model: DeepSeek-V3
      weight: 3
      price_in: 1.14
      price_out: 4.56
      capabilities: [text, json]
    local-llama:
      alias: llama
      endpoint: http://127.0.0.1:11434/v1/chat/completions
      auth: none
      model: llama3.3
  routes:
    generate: [deepseek-v3, llama, templates]
    summarize: [llama]
)");
  const auto& east = named(c, "deepseek-v3");
  CHECK(east.usable());
  CHECK(east.url() == "https://eastus.services.ai.azure.com/models/chat/completions?api-version=2024-05-01-preview");
  CHECK(east.model == "DeepSeek-V3");          // kept from the default
  CHECK(east.cost_micros(1000, 500) == 3420);  // 1000 * 1.14 + 500 * 4.56
  CHECK(c.deployments_for("deepseek-v3").size() == 2);
  CHECK(named(c, "deepseek-v3-westus").weight == 3);
  const auto& local = named(c, "local-llama");
  CHECK(local.usable());  // no key needed
  CHECK(local.url() == "http://127.0.0.1:11434/v1/chat/completions");
  CHECK(c.routes.at("summarize") == std::vector<std::string>{"llama"});
  CHECK(c.routes.at("reason") == default_routes().at("reason"));
}

TEST_CASE("ai catalog: mistakes are start-up errors naming the key", "[ai][catalog]") {
  CHECK_THAT(error_of("ai:\n  deployments:\n    x:\n      provider: anthropic\n"),
             Contains("ai.deployments.x.provider") && Contains("must be one of"));
  CHECK_THAT(error_of("ai:\n  routes:\n    generate: [deepseek-v4]\n"),
             Contains("ai.routes.generate") && Contains("no deployment has alias 'deepseek-v4'"));
  CHECK_THAT(error_of("ai:\n  deployments:\n    x:\n      endpoint: ftp://host/x\n"), Contains("http(s) URL"));
  CHECK_THAT(error_of("ai:\n  deployments:\n    x:\n      endpoint: https://h/x?api-version=1\n"),
             Contains("api_version"));
  CHECK_THAT(error_of("ai:\n  deployments:\n    x:\n      capabilities: [telepathy]\n"),
             Contains("unknown capability 'telepathy'"));
  CHECK_THAT(error_of("ai:\n  deployments:\n    x:\n      modle: gpt\n"),
             Contains("ai.deployments.x.modle: unknown key"));
  CHECK_THAT(error_of("ai:\n  deployments:\n    x:\n      price_in: -1\n"), Contains("ai.deployments.x.price_in"));
  CHECK_THAT(error_of("ai:\n  routes:\n    generate: []\n"), Contains("at least one alias"));
}

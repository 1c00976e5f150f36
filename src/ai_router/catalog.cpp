#include "huntaze/ai_router/catalog.hpp"

#include <boost/url/parse.hpp>
#include <cmath>
#include <set>

namespace huntaze::ai_router {

namespace {

const std::vector<std::string> kProviders{"openai", "openai_audio", "templates"};
const std::vector<std::string> kAuths{"api-key", "bearer", "none"};
const std::vector<std::pair<std::string, Capability>> kCapabilities{
    {"text", kText}, {"vision", kVision}, {"audio", kAudio}, {"reasoning", kReasoning}, {"json", kJson}};

Deployment model(std::string name, std::string model_name, double in, double out, unsigned caps, int context_window) {
  Deployment d;
  d.name = name;
  d.alias = std::move(name);
  d.auth = Auth::api_key;  // Azure AI Foundry, the product's provider
  d.api_version = "2024-05-01-preview";
  d.model = std::move(model_name);
  d.price_in = in;
  d.price_out = out;
  d.capabilities = caps;
  d.context_window = context_window;
  return d;
}

// The product's models with Azure AI Foundry list prices (USD per 1M tokens)
// and no endpoint: unusable until an operator sets endpoint and key, so a
// fresh install routes everything to the offline templates.
std::vector<Deployment> default_deployments() {
  std::vector<Deployment> out{
      model("deepseek-v3", "DeepSeek-V3", 1.14, 4.56, kText | kJson, 128'000),
      model("deepseek-r1", "DeepSeek-R1", 1.35, 5.40, kText | kReasoning, 128'000),
      model("llama-3.3-70b", "Llama-3.3-70B-Instruct", 0.71, 0.71, kText | kJson, 128'000),
      model("phi-4-multimodal", "Phi-4-multimodal-instruct", 0.08, 0.32, kText | kVision | kAudio, 128'000),
      model("phi-4-mini", "Phi-4-mini-instruct", 0.075, 0.30, kText | kJson, 128'000),
      model("mistral-large", "Mistral-Large-2411", 2.0, 6.0, kText | kJson, 128'000),
      model("whisper", "whisper", 0, 0, kAudio, 0),
  };
  out.back().provider = Provider::openai_audio;
  Deployment templates;
  templates.name = templates.alias = "templates";
  templates.provider = Provider::templates;
  templates.auth = Auth::none;
  templates.model = "templates";
  out.push_back(std::move(templates));
  return out;
}

template <class E>
E enum_of(const std::string& word, const std::vector<std::string>& words) {
  for (size_t i = 0; i < words.size(); ++i)
    if (words[i] == word) return static_cast<E>(i);
  return static_cast<E>(0);
}

std::string word_of(size_t index, const std::vector<std::string>& words) {
  return words[index];
}

Deployment parse_deployment(config::Node node, const std::string& name, const Deployment& fallback) {
  Deployment d = fallback;
  d.name = name;
  d.alias = node.get_string("alias", fallback.alias.empty() ? name : fallback.alias);
  d.provider = enum_of<Provider>(
      node.get_enum("provider", word_of(static_cast<size_t>(fallback.provider), kProviders), kProviders), kProviders);
  d.endpoint = node.get_string("endpoint", fallback.endpoint);
  if (!d.endpoint.empty()) {
    auto url = boost::urls::parse_absolute_uri(d.endpoint);
    if (!url || (url->scheme() != "https" && url->scheme() != "http") || url->host().empty())
      node.fail("endpoint", "expected an http(s) URL, got '" + d.endpoint + "'");
    if (url->has_query()) node.fail("endpoint", "put api-version in api_version, not in the URL");
  }
  d.api_version = node.get_string("api_version", fallback.api_version);
  d.auth = enum_of<Auth>(node.get_enum("auth", word_of(static_cast<size_t>(fallback.auth), kAuths), kAuths), kAuths);
  d.key = node.get_secret("key", fallback.key.reveal());
  d.model = node.get_string("model", fallback.model);
  d.weight = static_cast<int>(node.get_int("weight", fallback.weight, 0, 1000));
  d.rpm = static_cast<int>(node.get_int("rpm", fallback.rpm, 0, 10'000'000));
  d.tpm = static_cast<int>(node.get_int("tpm", fallback.tpm, 0, 1'000'000'000));
  d.max_concurrency = static_cast<int>(node.get_int("max_concurrency", fallback.max_concurrency, 1, 100'000));
  d.context_window = static_cast<int>(node.get_int("context_window", fallback.context_window, 0, 100'000'000));
  d.max_output = static_cast<int>(node.get_int("max_output", fallback.max_output, 1, 10'000'000));
  d.price_in = node.get_double("price_in", fallback.price_in, 0, 10'000);
  d.price_out = node.get_double("price_out", fallback.price_out, 0, 10'000);
  d.timeout = node.get_duration("timeout", fallback.timeout, std::chrono::milliseconds(100), std::chrono::hours(1));
  std::vector<std::string> fallback_caps;
  for (const auto& [word, bit] : kCapabilities)
    if (fallback.capabilities & bit) fallback_caps.push_back(word);
  d.capabilities = 0;
  for (const auto& word : node.get_strings("capabilities", fallback_caps)) {
    bool known = false;
    for (const auto& [w, bit] : kCapabilities)
      if (w == word) d.capabilities |= bit, known = true;
    if (!known) node.fail("capabilities", "unknown capability '" + word + "' (text, vision, audio, reasoning, json)");
  }
  return d;
}

}  // namespace

std::string Deployment::url() const {
  if (api_version.empty()) return endpoint;
  return endpoint + "?api-version=" + api_version;
}

int64_t Deployment::cost_micros(int64_t tokens_in, int64_t tokens_out) const {
  return std::llround(static_cast<double>(tokens_in) * price_in + static_cast<double>(tokens_out) * price_out);
}

bool Deployment::usable() const {
  if (provider == Provider::templates) return true;
  return !endpoint.empty() && weight > 0 && (auth == Auth::none || !key.reveal().empty());
}

std::vector<const Deployment*> Catalog::deployments_for(const std::string& alias) const {
  std::vector<const Deployment*> out;
  for (const auto& d : deployments)
    if (d.alias == alias) out.push_back(&d);
  return out;
}

std::map<std::string, std::vector<std::string>> default_routes() {
  return {
      {"generate", {"deepseek-v3", "llama-3.3-70b", "templates"}},
      {"reason", {"deepseek-r1", "deepseek-v3"}},
      {"vision", {"phi-4-multimodal"}},
      {"classify", {"phi-4-mini", "llama-3.3-70b"}},
      {"creative", {"mistral-large", "deepseek-v3"}},
      {"transcribe", {"whisper"}},
  };
}

Catalog parse_catalog(config::Node ai) {
  Catalog c;
  // Defaults first, in their own order, then deployments only the file names.
  auto defaults = default_deployments();
  auto section = ai.section("deployments");
  std::vector<std::string> names;
  for (const auto& d : defaults) names.push_back(d.name);
  for (const auto& name : section.keys())
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  for (const auto& name : names) {
    Deployment fallback;
    for (const auto& d : defaults)
      if (d.name == name) fallback = d;
    auto node = section.section(name);
    c.deployments.push_back(parse_deployment(node, name, fallback));
    node.finish();
  }

  auto routes = ai.section("routes");
  c.routes = default_routes();
  std::vector<std::string> tasks;
  for (const auto& [task, aliases] : c.routes) tasks.push_back(task);
  for (const auto& task : routes.keys())
    if (!c.routes.contains(task)) tasks.push_back(task);
  std::set<std::string> aliases;
  for (const auto& d : c.deployments) aliases.insert(d.alias);
  for (const auto& task : tasks) {
    auto list = routes.get_strings(task, c.routes.contains(task) ? c.routes[task] : std::vector<std::string>{});
    if (list.empty()) routes.fail(task, "a route needs at least one alias");
    for (const auto& alias : list)
      if (!aliases.contains(alias)) routes.fail(task, "no deployment has alias '" + alias + "'");
    c.routes[task] = std::move(list);
  }
  return c;
}

}  // namespace huntaze::ai_router

#include "milter/policy.h"

#include "milter/bounce_verification.h"

namespace bm {

Result<std::shared_ptr<const Policy>> LoadPolicy(const std::string& config_path) {
  auto policy = std::make_shared<Policy>();
  if (config_path.empty()) {
    policy->config = std::make_shared<const Config>(DefaultConfig());
  } else {
    Result<std::shared_ptr<const Config>> config = LoadConfigFile(config_path);
    if (!config.ok()) return config.status();
    policy->config = std::move(*config);
  }
  Result<std::shared_ptr<const RuleTable>> rules =
      RuleTable::LoadFileOrDefault(policy->config->rules_file);
  if (!rules.ok()) return rules.status();
  policy->rules = std::move(*rules);
  Result<std::shared_ptr<const BounceVerifier>> verifier = LoadBounceVerifier(*policy->config);
  if (!verifier.ok()) return verifier.status();
  policy->verifier = std::move(*verifier);
  return std::shared_ptr<const Policy>(std::move(policy));
}

}  // namespace bm

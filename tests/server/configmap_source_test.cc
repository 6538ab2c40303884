#include "server/configmap_source.h"

#include <catch2/catch.hpp>

namespace drover {
namespace {

TEST_CASE("configmap_references_parse_or_name_the_flag_and_value", "[server][config]") {
  absl::StatusOr<ConfigMapRef> r = ParseConfigMapRef("--queues-configmap", "drover-system/drover-queues");
  REQUIRE(r.ok());
  CHECK(r->namespace_ == "drover-system");
  CHECK(r->name == "drover-queues");
  CHECK(r->key == "queues.yaml");
  r = ParseConfigMapRef("--queues-configmap", "ns/q:prod.yaml");
  REQUIRE(r.ok());
  CHECK(r->key == "prod.yaml");
  for (const char* bad : {"", "just-a-name", "ns/", "/name", "NS/name", "ns/name:", "ns/a b"}) {
    absl::StatusOr<ConfigMapRef> e = ParseConfigMapRef("--queues-configmap", bad);
    INFO(bad);
    REQUIRE_FALSE(e.ok());
    CHECK(std::string(e.status().message()).find("--queues-configmap") == 0);
  }
}

TEST_CASE("configmap_value_is_read_from_data_or_the_key_is_named", "[server][config]") {
  absl::StatusOr<std::string> v = ConfigMapValue(R"({"kind":"ConfigMap","data":{"queues.yaml":"queues: {}\n"}})", "queues.yaml");
  REQUIRE(v.ok());
  CHECK(*v == "queues: {}\n");
  absl::StatusOr<std::string> missing = ConfigMapValue(R"({"data":{"other":"x"}})", "queues.yaml");
  REQUIRE_FALSE(missing.ok());
  CHECK(std::string(missing.status().message()).find("queues.yaml") != std::string::npos);
  CHECK_FALSE(ConfigMapValue(R"({"data":{"queues.yaml":42}})", "queues.yaml").ok());
  CHECK_FALSE(ConfigMapValue("not json", "queues.yaml").ok());
  CHECK_FALSE(ConfigMapValue(R"({"metadata":{}})", "queues.yaml").ok());
}

}  // namespace
}  // namespace drover

// ReadSmallFile: the bounded reader every operator-supplied file goes through.
#include "k8s/small_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <string>

namespace drover {
namespace {

std::string TempPath(const char* name) { return std::string("/tmp/drover_small_file_") + std::to_string(getpid()) + name; }

void Write(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

TEST_CASE("small_file_reads_a_file_up_to_its_limit_and_refuses_one_byte_more", "[small_file]") {
  const std::string path = TempPath("_exact");
  Write(path, std::string(100, 'x'));
  absl::StatusOr<std::string> ok = ReadSmallFile("--token-file", path, 100);
  REQUIRE(ok.ok());
  CHECK(*ok == std::string(100, 'x'));
  absl::StatusOr<std::string> over = ReadSmallFile("--token-file", path, 99);
  REQUIRE(absl::IsInvalidArgument(over.status()));
  CHECK(std::string(over.status().message()) == "--token-file: \"" + path + "\" is 100 bytes; the limit is 99");
  Write(path, "");
  CHECK(ReadSmallFile("--token-file", path, 10).value().empty());
  std::remove(path.c_str());
}

TEST_CASE("small_file_names_the_field_and_path_of_a_missing_file", "[small_file]") {
  absl::StatusOr<std::string> r = ReadSmallFile("--admin-tokens", "/nonexistent/tokens.yaml", 1 << 20);
  REQUIRE(absl::IsNotFound(r.status()));
  CHECK(std::string(r.status().message()) ==
        "--admin-tokens: cannot read \"/nonexistent/tokens.yaml\": No such file or directory");
}

TEST_CASE("small_file_refuses_devices_fifos_and_directories_without_reading_them", "[small_file]") {
  // /dev/zero never ends: an unbounded reader would allocate until it died.
  absl::StatusOr<std::string> zero = ReadSmallFile("--cacert", "/dev/zero", 1 << 20);
  REQUIRE(absl::IsInvalidArgument(zero.status()));
  CHECK(std::string(zero.status().message()) == "--cacert: \"/dev/zero\" is not a regular file");
  // A FIFO with no writer: opening it for reading would block forever without O_NONBLOCK.
  const std::string fifo = TempPath("_fifo");
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  CHECK(absl::IsInvalidArgument(ReadSmallFile("--config", fifo, 1 << 20).status()));
  std::remove(fifo.c_str());
  CHECK(absl::IsInvalidArgument(ReadSmallFile("--queues", "/tmp", 1 << 20).status()));
}

}  // namespace
}  // namespace drover

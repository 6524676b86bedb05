// The matrix's machine-readable reports read by their consumers' own tools: kcidb.json by
// python3-jsonschema against KCIDB's published schema (through tests/rig/check_kcidb.py, which
// the end-to-end matrix test uses too), junit.xml by Python's XML parser.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <vector>

#include "rig/matrix/matrix_view.h"
#include "rig/matrix/reports.h"
#include "rig/matrix/sample_nights.h"
#include "tests/support/file_text.h"
#include "tests/support/temp_dir.h"

namespace crossrig::rig::matrix {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Debian's interpreter, the one python3-jsonschema installs for (another python3 on PATH may
// lack it).
constexpr const char* kPython = "/usr/bin/python3";
const fs::path kSource = CROSSRIG_SOURCE_DIR;
const fs::path kSchema = kSource / "tests/rig/fixtures/kcidb/kcidb-v5.3.schema.json";
const fs::path kChecker = kSource / "tests/rig/check_kcidb.py";

struct Outcome {
  int exit_code;
  std::string output;
};

// Runs a shell command with its output in a file of dir; the exit code as the shell's.
Outcome run(const std::string& command, const fs::path& dir) {
  const fs::path out = dir / "output.txt";
  int status = std::system((command + " >'" + out.string() + "' 2>&1").c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, test_support::file_text(out)};
}

std::string quoted(const fs::path& p) {
  return "'" + p.string() + "'";
}

fs::path write(const fs::path& file, const std::string& text) {
  std::ofstream(file, std::ios::binary) << text;
  return file;
}

class KcidbSchema : public ::testing::Test {
 protected:
  Outcome check(const json& doc, const std::string& name = "kcidb.json") {
    fs::path file = write(dir_.path() / name, doc.dump(1));
    return run(
        std::string(kPython) + " " + quoted(kChecker) + " " + quoted(kSchema) + " " + quoted(file),
        dir_.path());
  }
  test_support::TempDir dir_{"kcidb-schema-test"};
};

// Each sample night against the ones before it, as `rig matrix` would report it.
std::vector<std::pair<Night, MatrixView>> sample_views() {
  auto nights = testing::sample_nights();
  std::vector<std::pair<Night, MatrixView>> out;
  for (std::size_t i = 0; i < nights.size(); ++i) {
    out.emplace_back(nights[i], analyze(nights[i], std::span(nights).first(i)));
  }
  return out;
}

TEST_F(KcidbSchema, EverySampleNightIsValidKcidb53) {
  for (const auto& [night, view] : sample_views()) {
    for (const Links& links :
         {Links{"https://lab.example/results/"}, Links{"file:///srv/rig/results"}, Links{""}}) {
      Outcome r = check(kcidb_json(night, view, links));
      EXPECT_EQ(r.exit_code, 0) << night.date << " with url_base '" << links.url_base << "':\n"
                                << r.output;
    }
  }
}

TEST_F(KcidbSchema, BuildsWithoutStatusAndOddNamesAreValid) {
  auto nights = testing::sample_nights();
  Night& tonight = nights.back();
  tonight.builds.clear();
  tonight.source = {"", "", "", ""};
  tonight.boards[0].tests.push_back({"weird name/with//odd\x01 bytes\xff", Status::kPass, 1.5, ""});
  tonight.boards.back().error = std::string("console\0said\x02", 13);
  Outcome r = check(kcidb_json(tonight, analyze(tonight, {}), {"https://lab.example/r/"}));
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST_F(KcidbSchema, TheCheckerRejectsWhatTheSchemaForbids) {
  auto views = sample_views();
  const json valid = kcidb_json(views.back().first, views.back().second, {"https://lab.example/"});
  ASSERT_EQ(check(valid).exit_code, 0);

  json bad_status = valid;
  bad_status["tests"][0]["status"] = "OK";
  Outcome r = check(bad_status);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("$.tests[0].status"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("'OK'"), std::string::npos) << r.output;

  // Formats are checked, not only types: the schema's "uri" and "date-time".
  json bad_url = valid;
  bad_url["builds"][0]["log_url"] = "lab results/build.log";
  r = check(bad_url);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("$.builds[0].log_url"), std::string::npos) << r.output;

  json bad_time = valid;
  bad_time["checkouts"][0]["start_time"] = "2026-12-03 01:00";
  r = check(bad_time);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("$.checkouts[0].start_time"), std::string::npos) << r.output;

  json bad_path = valid;
  bad_path["tests"][1]["path"] = "ckpt/restore_threads";
  r = check(bad_path);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("$.tests[1].path"), std::string::npos) << r.output;
}

class JunitXmlParse : public ::testing::Test {
 protected:
  // Python's XML parser, as CI systems' readers are: exit 0 and the totals it read, or a
  // parse error.
  Outcome parse(const std::string& xml) {
    fs::path file = write(dir_.path() / "junit.xml", xml);
    return run(std::string(kPython) +
                   " -c 'import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1])"
                   ".getroot(); print(r.tag, r.get(\"tests\"), len(r.findall(\"testsuite\")))' " +
                   quoted(file),
               dir_.path());
  }
  test_support::TempDir dir_{"junit-xml-test"};
};

TEST_F(JunitXmlParse, EverySampleNightParses) {
  for (const auto& [night, view] : sample_views()) {
    Outcome r = parse(junit_xml(night, view, {"https://lab.example/results/"}));
    EXPECT_EQ(r.exit_code, 0) << night.date << ":\n" << r.output;
    EXPECT_TRUE(r.output.starts_with("testsuites ")) << r.output;
  }
}

TEST_F(JunitXmlParse, TextFromTheBoardsParses) {
  auto nights = testing::sample_nights();
  Night& tonight = nights.back();
  tonight.boards[0].tests.push_back({"a<&\"'>b", Status::kFail, std::nullopt, ""});
  tonight.boards.back().error = "console\x01 said \x1b[1m]]> & <oops> \xff";
  Outcome r = parse(junit_xml(tonight, analyze(tonight, {}), {"https://lab.example/?a=1&b=2"}));
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST_F(JunitXmlParse, TheParserRejectsBrokenXml) {
  Outcome r = parse("<testsuites><testsuite name=\"a\x01\"></testsuite></testsuites>");
  EXPECT_NE(r.exit_code, 0) << "a control character must not parse: " << r.output;
  r = parse("<testsuites><testsuite name=\"a&b\"></testsuite></testsuites>");
  EXPECT_NE(r.exit_code, 0) << "a bare '&' must not parse: " << r.output;
}

}  // namespace
}  // namespace crossrig::rig::matrix

// Loading and selecting cases (spec/transcript-format.md §T.9).
#include "tcpchat/conformance.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <span>
#include <sstream>
#include <system_error>
#include <utility>

namespace tcpchat::conformance {

namespace fs = std::filesystem;

std::string default_cases_dir() {
    // An installed runner carries its suite: <prefix>/bin/../share/tcpchat/conformance/cases.
#ifdef TCPCHAT_CONFORMANCE_INSTALLED_CASES
    std::error_code ec;
    const fs::path self = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        const fs::path installed = self.parent_path() / TCPCHAT_CONFORMANCE_INSTALLED_CASES;
        if (fs::is_directory(installed, ec)) {
            return installed.lexically_normal().string();
        }
    }
#endif
    if (const char* env = std::getenv("TCPCHAT_CONFORMANCE_CASES"); env != nullptr && *env != 0) {
        return env;
    }
#ifdef TCPCHAT_CONFORMANCE_CASES_DIR
    return TCPCHAT_CONFORMANCE_CASES_DIR;
#else
    return "conformance/cases";
#endif
}

namespace {

std::vector<int> section_parts(const std::string& s) {
    std::vector<int> out;
    int n = 0;
    bool any = false;
    for (char c : s) {
        if (c >= '0' && c <= '9') {
            n = n * 10 + (c - '0');
            any = true;
        } else {
            out.push_back(n);
            n = 0;
            any = false;
        }
    }
    if (any) {
        out.push_back(n);
    }
    return out;
}

void load_file(const fs::path& path, Suite& suite) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        suite.errors.push_back({path.string(), {0, 0, "cannot read the file"}});
        return;
    }
    std::ostringstream text;
    text << in.rdbuf();
    auto parsed = transcript::parse_transcript(text.str(), path.stem().string());
    if (parsed) {
        suite.cases.push_back(std::move(parsed.value()));
    } else {
        suite.errors.push_back({path.string(), parsed.error()});
    }
}

} // namespace

bool section_less(const std::string& a, const std::string& b) {
    return section_parts(a) < section_parts(b);
}

namespace {

// The spec's numbered headings, in its order (spec/tcp-chat.md). A test holds this table to the
// spec's headings, both ways.
constexpr std::array<SectionTitle, 48> titles{{
    {"1", "Introduction"},
    {"2", "Overview"},
    {"3", "Protocol version"},
    {"4", "Message syntax"},
    {"4.1", "Framing and bytes"},
    {"4.2", "Method line"},
    {"4.3", "Header fields"},
    {"4.4", "Canonical messages"},
    {"4.5", "Accepted messages"},
    {"4.6", "The peer connection"},
    {"5", "Messages"},
    {"5.1", "REGISTER"},
    {"5.2", "REGACK"},
    {"5.3", "BRIDGE"},
    {"5.4", "BRIDGEACK"},
    {"5.5", "CHAT"},
    {"5.6", "Chat text lines"},
    {"5.7", "QUIT"},
    {"5.8", "ERROR"},
    {"6", "Server semantics"},
    {"6.1", "Connection handling"},
    {"6.2", "Registry and REGISTER"},
    {"6.3", "BRIDGE pairing rule"},
    {"6.4", "Errors and replies"},
    {"6.5", "Timeouts and connection cap"},
    {"6.6", "Logging"},
    {"6.7", "Several servers sharing one registry"},
    {"7", "Limits"},
    {"8", "Errors"},
    {"9", "Compatibility"},
    {"9.1", "What a conforming sender sends"},
    {"9.2", "Leniencies"},
    {"9.3", "Clients that know no ERROR"},
    {"10", "Client semantics"},
    {"10.1", "State machine"},
    {"10.2", "Commands in every state"},
    {"10.3", "WAIT mode"},
    {"10.4", "CHAT mode and turns"},
    {"10.5", "Ending a chat"},
    {"10.6", "Client errors"},
    {"10.7", "Opening and closing the chat"},
    {"11", "Security considerations"},
    {"12", "Transcript format"},
    {"A", "Collected ABNF"},
    {"B", "Implementation notes (non-normative)"},
    {"B.1", "The server"},
    {"B.2", "The client"},
    {"B.3", "The codec"},
}};

} // namespace

std::span<const SectionTitle> section_titles() {
    return titles;
}

std::string_view section_title(const std::string& section) {
    for (const SectionTitle& t : titles) {
        if (t.number == section) {
            return t.title;
        }
    }
    return {};
}

Suite load_suite(const std::vector<std::string>& paths) {
    Suite suite;
    for (const std::string& p : paths) {
        std::error_code ec;
        if (fs::is_directory(p, ec)) {
            std::vector<fs::path> files;
            for (const auto& entry : fs::directory_iterator(p, ec)) {
                if (entry.is_regular_file() && entry.path().extension() == ".md" &&
                    entry.path().filename() != "README.md") {
                    files.push_back(entry.path());
                }
            }
            std::sort(files.begin(), files.end());
            for (const auto& f : files) {
                load_file(f, suite);
            }
        } else if (fs::exists(p, ec)) {
            load_file(p, suite);
        } else {
            suite.errors.push_back({p, {0, 0, "no such file or directory"}});
        }
    }
    std::stable_sort(suite.cases.begin(), suite.cases.end(), [](const Case& a, const Case& b) {
        const std::string& sa = a.sections.front();
        const std::string& sb = b.sections.front();
        if (section_less(sa, sb) || section_less(sb, sa)) {
            return section_less(sa, sb);
        }
        return a.name < b.name;
    });
    return suite;
}

bool selected(const Case& c, Mode mode, const std::vector<std::string>& filters) {
    if (!c.applies_to(mode)) {
        return false;
    }
    if (filters.empty()) {
        return true;
    }
    for (std::string f : filters) {
        if (c.name.find(f) != std::string::npos) {
            return true;
        }
        if (f.starts_with("\xC2\xA7")) {
            f.erase(0, 2);
        }
        for (const std::string& s : c.sections) {
            if (s == f || (s.starts_with(f) && s.size() > f.size() && s[f.size()] == '.')) {
                return true;
            }
        }
    }
    return false;
}

} // namespace tcpchat::conformance

#include "html.hpp"

namespace tcpchat::conformance::html {

namespace {

// Colours by verdict; print drops the backgrounds that printers waste ink on.
constexpr std::string_view style = R"css(
:root { --pass: #1a7f37; --fail: #cf222e; --crash: #8250df; --skip: #9a6700; --notrun: #6e7781;
        --line: #d0d7de; --soft: #f6f8fa; --ink: #1f2328; --muted: #59636e; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink);
       margin: 0 auto; padding: 24px 32px 48px; max-width: 1180px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 32px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 16px; margin: 22px 0 8px; color: var(--muted); }
code, pre, .bytes { font: 13px/1.4 ui-monospace, "DejaVu Sans Mono", Menlo, monospace; }
.heading { color: var(--muted); margin: 0 0 14px; }
.totals { display: flex; gap: 8px; flex-wrap: wrap; margin: 10px 0; }
.badge { display: inline-block; border-radius: 999px; padding: 2px 10px; font-weight: 600;
         font-size: 13px; color: #fff; white-space: nowrap; }
.passed { --c: var(--pass); } .failed { --c: var(--fail); } .crashed { --c: var(--crash); }
.skipped { --c: var(--skip); } .not-run { --c: var(--notrun); }
.badge { background: var(--c, var(--notrun)); }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--soft); font-weight: 600; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
td.zero { color: #c4c9cf; }
.bar { display: flex; height: 10px; width: 100%; min-width: 180px; border-radius: 5px;
       overflow: hidden; background: var(--soft); margin-top: 5px; }
td.bar-cell { width: 30%; }
table.summary th:nth-child(n+3), table.summary td.n { width: 8%; }
.bar span { background: var(--c); display: block; }
.failures li { margin: 2px 0; }
details.case { border: 1px solid var(--line); border-left: 5px solid var(--c); border-radius: 6px;
               margin: 6px 0; background: #fff; }
details.case > summary { cursor: pointer; padding: 7px 12px; list-style-position: inside; }
details.case > summary code { font-weight: 600; }
details.case[open] > summary { border-bottom: 1px solid var(--line); background: var(--soft); }
.case .body { padding: 10px 14px 14px; }
.why { color: var(--muted); }
.meta { color: var(--muted); font-size: 13px; margin: 0 0 8px; }
.message { font-weight: 600; color: var(--fail); margin: 6px 0; }
.crash .message { color: var(--crash); }
.diff { display: grid; grid-template-columns: max-content 1fr; gap: 2px 10px; margin: 8px 0;
        padding: 8px 10px; background: var(--soft); border-radius: 6px; }
.diff .label { color: var(--muted); font-size: 13px; }
.diff .bytes { white-space: pre-wrap; word-break: break-all; }
.diff mark { background: #ffd8b5; color: #9a3412; outline: 1px solid #fb8f44; border-radius: 2px; }
.diff .where { grid-column: 2; color: var(--muted); font-size: 13px; }
pre.output { background: #0d1117; color: #e6edf3; padding: 10px 12px; border-radius: 6px;
             overflow-x: auto; white-space: pre-wrap; max-height: 360px; }
figure.sequence { margin: 10px 0; overflow-x: auto; }
figure.sequence figcaption { color: var(--muted); font-size: 13px; }
svg.sequence { display: block; font: 12px ui-monospace, "DejaVu Sans Mono", monospace; }
svg.sequence .actor rect { fill: #ddf4ff; stroke: #54aeff; }
svg.sequence .actor.under-test rect { fill: #fff8c5; stroke: #d4a72c; }
svg.sequence .actor text { font: 600 12px system-ui, sans-serif; }
svg.sequence .actor .role { font: 11px system-ui, sans-serif; fill: var(--muted); }
svg.sequence .lifeline { stroke: #afb8c1; stroke-dasharray: 4 4; }
svg.sequence .arrow line { stroke: #24292f; stroke-width: 1.4; }
svg.sequence .arrow.connect line, svg.sequence .arrow.silence line { stroke-dasharray: 5 4; }
svg.sequence .arrow.close line { stroke: #8c959f; }
svg.sequence .arrow.silence line { stroke: #8c959f; }
svg.sequence .arrow.connect text, svg.sequence .arrow.close text,
svg.sequence .arrow.silence text { fill: var(--muted); font-style: italic; }
svg.sequence .note rect { fill: #fff8c5; stroke: #d4a72c; }
svg.sequence .at-fault line { stroke: var(--fail); stroke-width: 2.4; }
svg.sequence .at-fault text { fill: var(--fail); font-weight: 700; }
svg.sequence .at-fault rect { stroke: var(--fail); stroke-width: 2; }
svg.sequence .line-no { fill: #afb8c1; font-size: 10px; }
.matrix td.v { text-align: center; font-weight: 700; color: var(--c); }
.matrix tr.section td { background: var(--soft); font-weight: 600; }
.matrix a { color: inherit; text-decoration: none; display: block; }
.matrix td.v.failed { background: #ffebe9; } .matrix td.v.crashed { background: #fbefff; }
.matrix td.v.not-run { background: #f6f8fa; }
table.runs td:nth-child(4), table.runs td:nth-child(5) { white-space: nowrap; }
table.runs .totals { flex-wrap: nowrap; margin: 0; }
footer { margin-top: 32px; color: var(--muted); font-size: 12px; }
@media print {
  body { padding: 0; max-width: none; font-size: 11pt; }
  details.case { break-inside: avoid; border-left-width: 4px; }
  details.case > summary { list-style: none; }
  pre.output { background: #fff; color: #000; border: 1px solid var(--line); max-height: none; }
  .badge, .bar span { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  h2 { break-after: avoid; }
}
)css";

} // namespace

std::string escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&#39;"; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') {
                out += "\xEF\xBF\xBD";
            } else {
                out += c;
            }
        }
    }
    return out;
}

std::string verdict_class(Verdict v) {
    return v == Verdict::not_run ? "not-run" : std::string(verdict_name(v));
}

void begin_page(std::ostream& out, std::string_view title) {
    out << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        << "<title>" << escape(title) << "</title>\n<style>" << style
        << "</style>\n"
        // Closed <details> do not print: open them all before printing.
        << "<script>addEventListener('beforeprint', () => document.querySelectorAll('details')"
           ".forEach(d => d.open = true));</script>\n"
        << "</head>\n<body>\n";
}

void end_page(std::ostream& out) {
    out << "</body>\n</html>\n";
}

} // namespace tcpchat::conformance::html

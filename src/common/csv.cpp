// Strict CSV reading with field positions; see csv.h.
#include "common/csv.h"

#include <charconv>
#include <cmath>

#include "common/fileio.h"

namespace em {

int64_t CsvTable::column_index(std::string_view name) const {
    for (size_t i = 0; i < header.size(); ++i)
        if (header[i].text == name) return static_cast<int64_t>(i);
    return -1;
}

std::string CsvTable::where(const CsvField &f) const {
    return path + ":" + std::to_string(f.line) + ":" + std::to_string(f.column);
}

Result<CsvTable> csv_parse(std::string_view text, const std::string &path) {
    CsvTable table;
    table.path = path;
    if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);

    size_t i = 0;
    int64_t line = 1, line_start = 0;  // line_start: offset of the current line's first byte
    std::vector<CsvField> record;
    bool have_header = false;

    auto finish_record = [&]() -> Status {
        bool blank = record.size() == 1 && record[0].text.empty();
        if (blank) {
            record.clear();
            return Status::ok();
        }
        if (!have_header) {
            table.header = std::move(record);
            have_header = true;
        } else if (record.size() != table.header.size()) {
            return Status::error(path + ":" + std::to_string(record[0].line) + ":1: expected " +
                                 std::to_string(table.header.size()) +
                                 " fields as in the header, found " +
                                 std::to_string(record.size()) +
                                 "; quote fields that contain commas and keep one record per line");
        } else {
            table.rows.push_back(std::move(record));
        }
        record.clear();
        return Status::ok();
    };

    while (i <= text.size()) {
        CsvField field;
        field.line = line;
        field.column = static_cast<int64_t>(i) - line_start + 1;
        if (i < text.size() && text[i] == '"') {
            ++i;
            for (;;) {
                if (i >= text.size())
                    return Status::error(path + ":" + std::to_string(field.line) + ":" +
                                         std::to_string(field.column) +
                                         ": quoted field is never closed; add the closing '\"'");
                char c = text[i];
                if (c == '"') {
                    if (i + 1 < text.size() && text[i + 1] == '"') {
                        field.text.push_back('"');
                        i += 2;
                        continue;
                    }
                    ++i;
                    break;
                }
                if (c == '\n') {
                    ++line;
                    line_start = static_cast<int64_t>(i) + 1;
                }
                field.text.push_back(c);
                ++i;
            }
            if (i < text.size() && text[i] != ',' && text[i] != '\n' && text[i] != '\r')
                return Status::error(path + ":" + std::to_string(line) + ":" +
                                     std::to_string(static_cast<int64_t>(i) - line_start + 1) +
                                     ": text after a closing quote; write a quote inside a quoted "
                                     "field as \"\"");
        } else {
            while (i < text.size() && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
                if (text[i] == '"')
                    return Status::error(path + ":" + std::to_string(line) + ":" +
                                         std::to_string(static_cast<int64_t>(i) - line_start + 1) +
                                         ": quote inside an unquoted field; quote the whole field "
                                         "and double the inner quote");
                field.text.push_back(text[i]);
                ++i;
            }
        }
        record.push_back(std::move(field));
        if (i >= text.size()) {
            EM_TRY(finish_record());
            break;
        }
        char c = text[i];
        if (c == ',') {
            ++i;
            continue;
        }
        if (c == '\r') {
            ++i;
            if (i < text.size() && text[i] == '\n') ++i;
        } else {
            ++i;  // '\n'
        }
        ++line;
        line_start = static_cast<int64_t>(i);
        EM_TRY(finish_record());
        if (i >= text.size()) break;
    }
    if (!have_header)
        return Status::error(path + ":1:1: the file is empty; it needs a header line and rows");
    return table;
}

Result<CsvTable> csv_read(const std::string &path) {
    EM_ASSIGN_OR_RETURN(std::string text, file_read(path));
    return csv_parse(text, path);
}

std::string csv_escape(std::string_view field) {
    if (field.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(field);
    std::string out = "\"";
    for (char c : field) {
        if (c == '"') out.push_back('"');
        out.push_back(c);
    }
    out.push_back('"');
    return out;
}

std::optional<double> number_parse(std::string_view text) {
    if (text.empty()) return std::nullopt;
    if (text[0] == '+') text.remove_prefix(1);
    double v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v))
        return std::nullopt;
    return v;
}

std::optional<int64_t> integer_parse(std::string_view text) {
    if (text.empty()) return std::nullopt;
    int64_t v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec == std::errc() && end == text.data() + text.size()) return v;
    auto d = number_parse(text);
    if (!d || *d != std::floor(*d) || std::fabs(*d) > 9.0e15) return std::nullopt;
    return static_cast<int64_t>(*d);
}

}  // namespace em

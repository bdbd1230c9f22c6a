// safetensors I/O; see safetensors.h.
#include "model/safetensors.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <nlohmann/json.hpp>

#include "common/fileio.h"
#include "common/rng.h"

namespace em {

Status safetensors_write(const std::string &path, const std::vector<StTensor> &tensors,
                         const std::map<std::string, std::string> &metadata) {
    nlohmann::ordered_json h;
    size_t off = 0;
    uint64_t checksum = 0xcbf29ce484222325ULL;
    for (const auto &t : tensors) {
        size_t n = 1;
        for (int64_t d : t.shape) n *= static_cast<size_t>(d);
        h[t.name] = {{"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {off, off + 4 * n}}};
        checksum = hash_fnv1a(t.data, 4 * n, checksum);
        off += 4 * n;
    }
    nlohmann::ordered_json meta = nlohmann::ordered_json::object();
    for (const auto &[k, v] : metadata) meta[k] = v;
    meta["emergence.checksum"] = std::to_string(checksum);
    h["__metadata__"] = meta;
    std::string header = h.dump();
    while ((8 + header.size()) % 8 != 0) header.push_back(' ');
    uint64_t hlen = header.size();
    AtomicFile f;
    EM_TRY(f.open(path));
    EM_TRY(f.write(&hlen, 8));
    EM_TRY(f.write(header.data(), header.size()));
    for (const auto &t : tensors) {
        size_t n = 1;
        for (int64_t d : t.shape) n *= static_cast<size_t>(d);
        EM_TRY(f.write(t.data, 4 * n));
    }
    return f.commit();
}

Result<std::map<std::string, std::string>> safetensors_read_metadata(const std::string &path) {
    std::FILE *f = std::fopen(path.c_str(), "rb");
    if (!f) return Status::error(path + ": cannot open: " + std::strerror(errno));
    uint64_t hlen = 0;
    std::string header;
    // The header must fit in the file: a damaged length is refused before anything is allocated.
    long size = std::fseek(f, 0, SEEK_END) == 0 ? std::ftell(f) : -1;
    std::rewind(f);
    bool ok = size >= 8 && std::fread(&hlen, 8, 1, f) == 1 &&
              hlen <= static_cast<uint64_t>(size) - 8 && hlen < (uint64_t{1} << 30);
    if (ok) {
        header.resize(hlen);
        ok = std::fread(header.data(), 1, hlen, f) == hlen;
    }
    std::fclose(f);
    if (!ok) return Status::error(path + ": truncated safetensors header");
    std::map<std::string, std::string> out;
    try {
        auto h = nlohmann::json::parse(header);
        if (h.contains("__metadata__"))
            for (auto &[k, v] : h["__metadata__"].items()) out[k] = v.get<std::string>();
    } catch (const std::exception &e) {
        return Status::error(path + ": header is not valid JSON: " + e.what());
    }
    return out;
}

Result<StFile> safetensors_read(const std::string &path) {
    EM_ASSIGN_OR_RETURN(std::string bytes, file_read(path));
    const std::string fix =
        " (the file is damaged: delete it and resume from an earlier checkpoint)";
    if (bytes.size() < 8) return Status::error(path + ": too short to be a safetensors file" + fix);
    uint64_t hlen;
    std::memcpy(&hlen, bytes.data(), 8);
    if (hlen > bytes.size() - 8)
        return Status::error(path + ": header length " + std::to_string(hlen) +
                             " runs past the end of the file (truncated?)" + fix);
    nlohmann::json h;
    try {
        h = nlohmann::json::parse(bytes.begin() + 8,
                                  bytes.begin() + 8 + static_cast<int64_t>(hlen));
    } catch (const std::exception &e) {
        return Status::error(path + ": header is not valid JSON: " + e.what() + fix);
    }
    if (!h.is_object()) return Status::error(path + ": header is not a JSON object" + fix);
    StFile out;
    const size_t data_start = 8 + hlen, data_len = bytes.size() - data_start;
    uint64_t checksum = 0xcbf29ce484222325ULL;
    std::vector<std::pair<size_t, std::string>> order;
    try {
        for (auto it = h.begin(); it != h.end(); ++it) {
            if (it.key() == "__metadata__") {
                for (auto m = it->begin(); m != it->end(); ++m)
                    out.metadata[m.key()] = m->get<std::string>();
                continue;
            }
            const auto &e = *it;
            if (e.at("dtype").get<std::string>() != "F32")
                return Status::error(path + ": tensor " + it.key() + " has dtype " +
                                     e.at("dtype").get<std::string>() + "; only F32 is supported");
            auto shape = e.at("shape").get<std::vector<int64_t>>();
            auto offs = e.at("data_offsets").get<std::vector<size_t>>();
            size_t n = 1;
            for (int64_t d : shape) n *= static_cast<size_t>(d);
            if (offs.size() != 2 || offs[1] < offs[0] || offs[1] - offs[0] != 4 * n ||
                offs[1] > data_len)
                return Status::error(
                    path + ": tensor " + it.key() +
                    " has data offsets outside the file or not matching its shape (truncated?)" +
                    fix);
            StFile::Entry entry;
            entry.shape = shape;
            entry.data.resize(n);
            std::memcpy(entry.data.data(), bytes.data() + data_start + offs[0], 4 * n);
            order.emplace_back(offs[0], it.key());
            out.tensors[it.key()] = std::move(entry);
        }
    } catch (const std::exception &e) {
        return Status::error(path + ": malformed header entry: " + e.what() + fix);
    }
    auto it = out.metadata.find("emergence.checksum");
    if (it != out.metadata.end()) {
        std::sort(order.begin(), order.end());
        for (const auto &[o, name] : order) {
            const auto &d = out.tensors[name].data;
            checksum = hash_fnv1a(d.data(), 4 * d.size(), checksum);
        }
        if (std::to_string(checksum) != it->second)
            return Status::error(path + ": checksum mismatch: the tensor data is corrupted" + fix);
    }
    return out;
}

}  // namespace em

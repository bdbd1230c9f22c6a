// Errors as values: library code returns Status or Result<T>; only main turns them into messages
// and exit codes. A message is one line that names the file, the place and the fix.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace em {

class [[nodiscard]] Status {
  public:
    Status() = default;
    static Status ok() { return Status(); }
    static Status error(std::string message) { return Status(std::move(message), true); }

    bool is_ok() const { return !failed_; }
    explicit operator bool() const { return !failed_; }
    const std::string &message() const { return message_; }

    // Prefixes context ("reading x.toml: ...") to an error; ok stays ok.
    Status with_context(const std::string &context) const {
        return failed_ ? Status::error(context + ": " + message_) : *this;
    }

  private:
    Status(std::string m, bool failed) : message_(std::move(m)), failed_(failed) {}
    std::string message_;
    bool failed_ = false;
};

template <typename T>
class [[nodiscard]] Result {
  public:
    Result(T value) : v_(std::move(value)) {}
    Result(Status status) : v_(std::move(status)) { assert(!std::get<Status>(v_).is_ok()); }

    bool is_ok() const { return v_.index() == 0; }
    explicit operator bool() const { return is_ok(); }
    Status status() const { return is_ok() ? Status::ok() : std::get<Status>(v_); }
    T &value() & { return std::get<T>(v_); }
    const T &value() const & { return std::get<T>(v_); }
    T &&value() && { return std::get<T>(std::move(v_)); }
    T *operator->() { return &std::get<T>(v_); }
    const T *operator->() const { return &std::get<T>(v_); }
    T &operator*() & { return std::get<T>(v_); }

  private:
    std::variant<T, Status> v_;
};

}  // namespace em

#define EM_CONCAT_INNER(a, b) a##b
#define EM_CONCAT(a, b) EM_CONCAT_INNER(a, b)

// Returns the Status from the enclosing function if `expr` failed.
#define EM_TRY(expr)                                \
    do {                                            \
        ::em::Status em_status_ = (expr);           \
        if (!em_status_.is_ok()) return em_status_; \
    } while (0)

// `EM_ASSIGN_OR_RETURN(auto x, f())` binds the value of a Result or returns its error.
#define EM_ASSIGN_OR_RETURN(lhs, expr) \
    EM_ASSIGN_OR_RETURN_IMPL(EM_CONCAT(em_result_, __LINE__), lhs, expr)
#define EM_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
    auto tmp = (expr);                           \
    if (!tmp.is_ok()) return tmp.status();       \
    lhs = std::move(tmp).value()

// The C API of bench/gbench.h over Google Benchmark: the suite's one C++ file.
// Only what Google Benchmark 1.7.1 and 1.8.3 both provide: RegisterBenchmark
// with a name given as const char * (1.8 takes a std::string, made from it),
// SkipWithError with a const char * (1.8: std::string), Counter flags of 1.7.
// No exception leaves this file: a configuration call that fails returns NULL.
#include "gbench.h"

#include <benchmark/benchmark.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace {

benchmark::internal::Benchmark *B(zz_gb_benchmark *b) { return reinterpret_cast<benchmark::internal::Benchmark *>(b); }
zz_gb_benchmark *C(benchmark::internal::Benchmark *b) { return reinterpret_cast<zz_gb_benchmark *>(b); }
benchmark::State &S(zz_gb_state *st) { return *reinterpret_cast<benchmark::State *>(st); }
const benchmark::State &S(const zz_gb_state *st) { return *reinterpret_cast<const benchmark::State *>(st); }

// Runs a configuration step on b; NULL for a NULL b, bad input or no memory.
template <class F>
zz_gb_benchmark *configure(zz_gb_benchmark *b, bool valid, F &&step) {
    if (!b || !valid) return nullptr;
    try {
        step(B(b));
        return b;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "gbench: %s\n", e.what());
        return nullptr;
    }
}

std::vector<int64_t> to_vector(int n, const long long *values) {
    return std::vector<int64_t>(values, values + n);
}

// Selects as a run does, then declines the context: RunSpecifiedBenchmarks
// runs nothing, and what it would print goes to the reporter's streams.
class SelectOnly : public benchmark::BenchmarkReporter {
  public:
    bool ReportContext(const Context &) override { return false; }
    void ReportRuns(const std::vector<Run> &) override {}
};

// Google Benchmark's value of its string flag `name` (zz_gb_flag), and
// where it came from, as a person would write it, into *source.
const char *flag_value(int argc, char *const *argv, const char *name, std::string *source) {
    const std::string prefix = std::string("--") + name + "=";
    for (int i = argc - 1; i > 0; i--)
        if (std::strncmp(argv[i], prefix.c_str(), prefix.size()) == 0) {
            if (source) *source = argv[i];
            return argv[i] + prefix.size();
        }
    std::string variable(name);
    for (char &c : variable) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    const char *value = std::getenv(variable.c_str());
    if (source && value) *source = "$" + variable + " '" + value + "'";
    return value;
}

// allowed: NULL-terminated.
bool one_of(const char *value, const char *const *allowed) {
    for (; *allowed; allowed++)
        if (std::strcmp(value, *allowed) == 0) return true;
    return false;
}

}  // namespace

extern "C" {

const char *zz_gb_flag(int argc, char *const *argv, const char *name) {
    return flag_value(argc, argv, name, nullptr);
}

int zz_gb_check_flags(int argc, char *const *argv, char *msg, size_t size) {
    static const char *const formats[] = {"console", "json", "csv", nullptr};
    static const char *const units[] = {"", "ns", "us", "ms", "s", nullptr};  // "": each benchmark's own
    static const char *const colors[] = {"", nullptr};  // refused; any other value reads as true or false
    static const struct {
        const char *name, *expected;
        const char *const *values;
        bool allowed;  // values lists the allowed values, else the refused ones
    } checks[] = {
        {"benchmark_format", "console, json or csv", formats, true},
        {"benchmark_out_format", "console, json or csv", formats, true},
        {"benchmark_time_unit", "ns, us, ms or s", units, true},
        {"benchmark_color", "auto, true or false", colors, false},
    };
    for (const auto &check : checks) {
        std::string source;
        const char *value = flag_value(argc, argv, check.name, &source);
        if (value && one_of(value, check.values) != check.allowed) {
            std::snprintf(msg, size, "%s: expected %s", source.c_str(), check.expected);
            return -1;
        }
    }
    return 0;
}

void zz_gb_initialize(int *argc, char **argv, void (*help)(void)) {
    benchmark::Initialize(argc, argv, help ? help : benchmark::PrintDefaultHelp);
}

void zz_gb_print_default_help(void) { benchmark::PrintDefaultHelp(); }

int zz_gb_report_unrecognized(int argc, char **argv) { return benchmark::ReportUnrecognizedArguments(argc, argv); }

void zz_gb_add_context(const char *key, const char *value) {
    if (key && value) benchmark::AddCustomContext(key, value);
}

size_t zz_gb_run(void) { return benchmark::RunSpecifiedBenchmarks(); }

size_t zz_gb_count_selected(char *msg, size_t size) {
    SelectOnly reporter;
    std::ostringstream out, err;
    reporter.SetOutputStream(&out);
    reporter.SetErrorStream(&err);
    const size_t n = benchmark::RunSpecifiedBenchmarks(&reporter);
    const std::string why = err.str();
    std::snprintf(msg, size, "%s", why.substr(0, why.find('\n')).c_str());
    return n;
}

void zz_gb_shutdown(void) { benchmark::Shutdown(); }

void zz_gb_clear(void) { benchmark::ClearRegisteredBenchmarks(); }

zz_gb_benchmark *zz_gb_register(const char *name, zz_gb_fn fn, void *ctx) {
    if (!name || !*name || !fn) return nullptr;
    try {
        return C(benchmark::RegisterBenchmark(
            name, [fn, ctx](benchmark::State &st) { fn(reinterpret_cast<zz_gb_state *>(&st), ctx); }));
    } catch (const std::exception &e) {
        std::fprintf(stderr, "gbench: registering %s: %s\n", name, e.what());
        return nullptr;
    }
}

zz_gb_benchmark *zz_gb_args(zz_gb_benchmark *b, int n, const long long *args) {
    return configure(b, n > 0 && args, [&](auto *bm) { bm->Args(to_vector(n, args)); });
}

zz_gb_benchmark *zz_gb_arg_names(zz_gb_benchmark *b, int n, const char *const *names) {
    bool valid = n > 0 && names;
    for (int i = 0; valid && i < n; i++) valid = names[i] != nullptr;
    return configure(b, valid, [&](auto *bm) { bm->ArgNames(std::vector<std::string>(names, names + n)); });
}

zz_gb_benchmark *zz_gb_ranges(zz_gb_benchmark *b, int n, const long long *lo, const long long *hi) {
    bool valid = n > 0 && lo && hi;
    for (int i = 0; valid && i < n; i++) valid = 0 <= lo[i] && lo[i] <= hi[i];
    return configure(b, valid, [&](auto *bm) {
        std::vector<std::pair<int64_t, int64_t>> ranges;
        for (int i = 0; i < n; i++) ranges.emplace_back(lo[i], hi[i]);
        bm->Ranges(ranges);
    });
}

zz_gb_benchmark *zz_gb_range_multiplier(zz_gb_benchmark *b, int multiplier) {
    return configure(b, multiplier > 1, [&](auto *bm) { bm->RangeMultiplier(multiplier); });
}

zz_gb_benchmark *zz_gb_args_product(zz_gb_benchmark *b, int n, const long long *const *lists, const int *lengths) {
    bool valid = n > 0 && lists && lengths;
    for (int i = 0; valid && i < n; i++) valid = lists[i] && lengths[i] > 0;
    return configure(b, valid, [&](auto *bm) {
        std::vector<std::vector<int64_t>> product;
        for (int i = 0; i < n; i++) product.push_back(to_vector(lengths[i], lists[i]));
        bm->ArgsProduct(product);
    });
}

zz_gb_benchmark *zz_gb_use_manual_time(zz_gb_benchmark *b) {
    return configure(b, true, [](auto *bm) { bm->UseManualTime(); });
}

zz_gb_benchmark *zz_gb_unit(zz_gb_benchmark *b, zz_gb_time_unit unit) {
    const benchmark::TimeUnit u = unit == ZZ_GB_NS   ? benchmark::kNanosecond
                                  : unit == ZZ_GB_US ? benchmark::kMicrosecond
                                  : unit == ZZ_GB_MS ? benchmark::kMillisecond
                                                     : benchmark::kSecond;
    return configure(b, unit >= ZZ_GB_NS && unit <= ZZ_GB_S, [u](auto *bm) { bm->Unit(u); });
}

zz_gb_benchmark *zz_gb_min_time(zz_gb_benchmark *b, double seconds) {
    return configure(b, seconds > 0, [&](auto *bm) { bm->MinTime(seconds); });
}

zz_gb_benchmark *zz_gb_iterations(zz_gb_benchmark *b, long long n) {
    return configure(b, n > 0, [&](auto *bm) { bm->Iterations(n); });
}

zz_gb_benchmark *zz_gb_repetitions(zz_gb_benchmark *b, int n) {
    return configure(b, n > 0, [&](auto *bm) { bm->Repetitions(n); });
}

int zz_gb_keep_running(zz_gb_state *st) { return S(st).KeepRunning(); }

int zz_gb_keep_running_batch(zz_gb_state *st, long long n) { return S(st).KeepRunningBatch(n > 0 ? n : 1); }

long long zz_gb_range(const zz_gb_state *st, int i) { return S(st).range(static_cast<std::size_t>(i)); }

long long zz_gb_iteration_count(const zz_gb_state *st) { return S(st).iterations(); }

void zz_gb_set_iteration_time(zz_gb_state *st, double seconds) { S(st).SetIterationTime(seconds); }

void zz_gb_counter(zz_gb_state *st, const char *name, double value, int flags) {
    if (!name) return;
    int f = benchmark::Counter::kDefaults;
    if (flags & ZZ_GB_RATE) f |= benchmark::Counter::kIsRate;
    if (flags & ZZ_GB_AVG_ITERATIONS) f |= benchmark::Counter::kAvgIterations;
    if (flags & ZZ_GB_ITERATION_INVARIANT) f |= benchmark::Counter::kIsIterationInvariant;
    const auto base = flags & ZZ_GB_BASE_1024 ? benchmark::Counter::kIs1024 : benchmark::Counter::kIs1000;
    try {
        S(st).counters[name] = benchmark::Counter(value, static_cast<benchmark::Counter::Flags>(f), base);
    } catch (const std::exception &e) {
        std::fprintf(stderr, "gbench: counter %s: %s\n", name, e.what());
    }
}

void zz_gb_set_label(zz_gb_state *st, const char *label) {
    if (label) S(st).SetLabel(label);
}

void zz_gb_skip_with_error(zz_gb_state *st, const char *msg) { S(st).SkipWithError(msg ? msg : "error"); }

int zz_gb_error_occurred(const zz_gb_state *st) { return S(st).error_occurred(); }

}  // extern "C"

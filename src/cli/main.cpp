// The emergence command line: dispatches to the registered subcommands and turns their errors
// into one-line messages and exit codes.
#include <cstdio>
#include <exception>
#include <map>
#include <new>

#include "cli/command.h"
#include "common/parallel.h"

namespace em::cli {
namespace {

std::map<std::string, CommandSetup> &registry() {
    static std::map<std::string, CommandSetup> r;
    return r;
}

}  // namespace

CommandRegistrar::CommandRegistrar(const char *name, CommandSetup setup) {
    registry()[name] = std::move(setup);
}

void commands_setup(CLI::App &root) {
    for (auto &[name, setup] : registry()) setup(root);
}

}  // namespace em::cli

int main(int argc, char **argv) {
    CLI::App app{
        "emergence: which abilities of a language model appear only below a pre-training loss "
        "threshold, where that threshold is, and whether models of different sizes that reach "
        "the same loss behave the same."};
    app.require_subcommand(1);
    app.set_version_flag("--version", "emergence 0.1.0");
    em::cli::commands_setup(app);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError &e) {
        return app.exit(e);
    } catch (const em::cli::CommandError &e) {
        std::fprintf(stderr, "emergence: error: %s\n", e.what());
        return 1;
    } catch (const std::bad_alloc &) {
        std::fprintf(stderr,
                     "emergence: error: out of memory; free memory or make the job smaller\n");
        return 1;
    } catch (const std::exception &e) {
        // Library code returns errors as values; anything thrown is a defect, reported in one
        // line rather than as an abort.
        std::fprintf(stderr, "emergence: internal error: %s; please report it with the command\n",
                     e.what());
        return 1;
    } catch (...) {
        std::fprintf(stderr,
                     "emergence: internal error: an unknown exception; please report it with the "
                     "command\n");
        return 1;
    }
    return 0;
}

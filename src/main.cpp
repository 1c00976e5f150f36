// huntaze: the whole backend in one process. See src/app/cli.cpp for the commands.
#include "app/cli.hpp"

int main(int argc, char** argv) { return huntaze::app::run_cli(argc, argv); }

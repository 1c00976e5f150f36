// The cost of one argon2id hash and one verification with the configured
// parameters (default: the OWASP minimum, 19 MiB, t=2, p=1) on one core:
// what bounds logins per second per compute thread.
//
//   bench_passwords [rounds] [memory_kib] [iterations]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "auth/passwords.hpp"

int main(int argc, char** argv) {
  using clock = std::chrono::steady_clock;
  const int rounds = argc > 1 ? std::max(1, std::atoi(argv[1])) : 20;
  huntaze::auth::PasswordParams params;
  if (argc > 2) params.memory_kib = static_cast<uint32_t>(std::atoi(argv[2]));
  if (argc > 3) params.iterations = static_cast<uint32_t>(std::atoi(argv[3]));
  std::string encoded;
  const auto t0 = clock::now();
  for (int i = 0; i < rounds; ++i) encoded = huntaze::auth::hash_password("correct horse battery " + std::to_string(i), params);
  const auto t1 = clock::now();
  int ok = 0;
  for (int i = 0; i < rounds; ++i) ok += huntaze::auth::verify_password(encoded, "correct horse battery " + std::to_string(rounds - 1));
  const auto t2 = clock::now();
  if (ok != rounds) {
    std::fprintf(stderr, "verification failed\n");
    return 1;
  }
  const double hash_ms = std::chrono::duration<double, std::milli>(t1 - t0).count() / rounds;
  const double verify_ms = std::chrono::duration<double, std::milli>(t2 - t1).count() / rounds;
  std::printf("argon2id m=%u KiB t=%u p=%u, %d rounds\n", params.memory_kib, params.iterations, params.parallelism,
              rounds);
  std::printf("BENCH argon2id_hash %.2f ms\n", hash_ms);
  std::printf("BENCH argon2id_verify %.2f ms\n", verify_ms);
  return 0;
}

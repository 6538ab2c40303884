// admin_bench's client process: `--clients` threads, each on its own gRPC
// connection, call ListPending (a random page of 100) and Explain (a pod of that
// page) back to back against the admin API at an address, until their standard
// input closes. They run in their own process, as droverctl and the page do, at
// the scheduling priority `--client-priority` gives them.
#pragma once

#include <string>

namespace drover::bench {

// How the client process is scheduled. kIdle (SCHED_IDLE): the clients get only
// CPU the server leaves unused; kLow (nice 19): the clients stand for other
// machines, weighing as little as the server's own gRPC threads; kNormal:
// clients on the server's own machine, competing with it as any process would.
enum class ClientPriority { kIdle, kLow, kNormal };

// Runs the client process's body, on CPU `cpu` only when it is >= 0 (standing
// for other machines without taking the server's other cores): starts `clients` threads against `address`,
// writes "ready\n" to stdout once each has completed a call, then obeys stdin
// until it reaches end of file: 'p' pauses the clients and answers 'p' on stdout
// once no call is in flight; 'r' resumes them. At the end it writes one line per method:
//   "<method> <calls> <p50 ms> <p99 ms> <errors>" and returns 0.
int RunClientProcess(const std::string& address, int clients, ClientPriority priority, int cpu);

}  // namespace drover::bench

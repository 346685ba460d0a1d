// Package remotewrite pushes the agent's /metrics to Prometheus
// Remote-Write 1.0 receivers (Prometheus with
// --web.enable-remote-write-receiver, VictoriaMetrics, Mimir, Thanos
// Receive) through a bounded queue on disk that survives restarts and
// SIGKILL: every interval one sample of every series is appended to the
// queue as a ready-to-send request, and a sender replays the queue oldest
// first, so each series reaches the receiver in timestamp order.
package remotewrite

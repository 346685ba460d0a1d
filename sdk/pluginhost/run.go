package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/pbxwatch/pbxwatch/sdk"
	pluginv1 "github.com/pbxwatch/pbxwatch/sdk/proto/pbxwatch/plugin/v1"
)

// Run runs the check once with the given timeout and always returns a
// result: failures of the plugin become UNKNOWN results naming the reason.
func (h *Host) Run(ctx context.Context, timeout time.Duration) *sdk.Result {
	return h.clean(h.run(ctx, timeout))
}

func (h *Host) run(ctx context.Context, timeout time.Duration) *sdk.Result {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return unknown(sdk.CodeAgentStopping, "the agent is stopping; the check was not run", nil)
	}
	p, res := h.ensureRunning(ctx, timeout)
	if res != nil {
		return res
	}
	res, err := h.call(ctx, p, timeout)
	if err == nil {
		h.owner.succeeded()
		return res
	}
	return h.failure(err, p, timeout)
}

// ensureRunning returns the plugin process, restarting one that exited
// (honouring the backoff) and configuring the check in a process that
// does not know it yet. It returns a result only when the check cannot run
// now.
func (h *Host) ensureRunning(ctx context.Context, timeout time.Duration) (*process, *sdk.Result) {
	p, gen, restarted, err := h.owner.running(timeout)
	h.noteRestarts(gen, restarted && err != nil)
	var backoff *backoffError
	switch {
	case errors.As(err, &backoff):
		return nil, unknown(sdk.CodePluginRestartBackoff, backoff.msg,
			[]string{"Read the agent's log for the plugin's last stderr lines (panic or fatal error).", "Run `pbxwatch check " + h.spec.Check + "` by hand to reproduce."})
	case err != nil:
		return nil, unknown(sdk.CodePluginStartFailed, h.scrub.String(err.Error()), []string{"Check that the plugin binary exists, is executable and matches the agent version."})
	}
	if gen == h.configuredGen {
		return p, nil
	}
	if err := h.configure(ctx, p); err != nil {
		return nil, unknown(sdk.CodePluginStartFailed, h.scrubError(err).Error(), []string{"Check that the plugin binary exists, is executable and matches the agent version."})
	}
	h.configuredGen = gen
	h.follow(p)
	return p, nil
}

// noteRestarts counts, for this check, every start of its process since
// the check was configured in it: in a shared process the check whose run
// restarted it and every other check it serves each see the restart (they
// all lost their in-memory state and their runs in progress). A failed
// attempt to restart counts for the check that made it.
func (h *Host) noteRestarts(gen int, failedAttempt bool) {
	if h.spec.OnRestart == nil {
		return
	}
	n := 0
	if failedAttempt {
		n = 1
	} else if h.configuredGen > 0 && gen > h.configuredGen {
		n = gen - h.configuredGen
	}
	for range n {
		h.spec.OnRestart()
	}
}

func (h *Host) call(ctx context.Context, p *process, timeout time.Duration) (*sdk.Result, error) {
	deadline := time.Now().Add(timeout)
	callCtx, cancel := context.WithDeadline(ctx, deadline.Add(h.spec.KillGrace))
	defer cancel()
	resp, err := p.rpc.Check(callCtx, &pluginv1.CheckRequest{DeadlineUnixNano: deadline.UnixNano(), Instance: h.instanceIn(p)})
	if err != nil {
		return nil, err
	}
	if e := resp.GetError(); e != "" {
		if time.Now().After(deadline) {
			return unknown(sdk.CodePluginTimeout, fmt.Sprintf("check did not finish within its %s timeout: %s", timeout, e),
				[]string{"Raise the check's timeout, or find out why the checked system answers slowly."}), nil
		}
		return unknown(sdk.CodeCheckError, e, nil), nil
	}
	return fromWire(resp), nil
}

// failure turns a failed call into a result, killing the plugin when it
// overstayed its timeout or is otherwise unusable. In a shared process
// that ends the run of every check in it: each is UNKNOWN once, and the
// next run starts the process again.
func (h *Host) failure(err error, p *process, timeout time.Duration) *sdk.Result {
	switch {
	case status.Code(err) == codes.DeadlineExceeded || errors.Is(err, context.DeadlineExceeded):
		h.log.Error("plugin ignored cancellation; killing its process group", "check", h.spec.Check, "plugin", h.spec.Plugin, "pid", p.pid, "timeout", timeout, "grace", h.spec.KillGrace)
		h.owner.kill(p, fmt.Sprintf("was killed after ignoring cancellation for %s past its %s timeout", h.spec.KillGrace, timeout))
		return unknown(sdk.CodePluginKilled, fmt.Sprintf("check did not finish within its %s timeout and ignored cancellation for %s more; the plugin and its children were killed", timeout, h.spec.KillGrace),
			[]string{"Raise the check's timeout if the checked system is just slow.", "Otherwise the plugin does not honour its context: fix it so Check returns when ctx is done."})
	case status.Code(err) == codes.Canceled:
		return unknown(sdk.CodeAgentStopping, "run cancelled: the agent is stopping or reloading", nil)
	case status.Code(err) == codes.Internal && strings.Contains(err.Error(), "UTF-8"):
		// The process is fine; its answer could not be decoded. A plugin
		// built with the SDK never sends this (Serve makes text valid).
		return unknown(sdk.CodeCheckError, "the plugin's result holds text that is not valid UTF-8, which the protocol cannot carry: "+status.Convert(err).Message(),
			[]string{"Rebuild the plugin with the current pbxwatch SDK, or make every string it returns valid UTF-8."})
	default:
		// The process died during the run, or the connection broke.
		reason := "exited during the run"
		p.kill() // reap first, so the exit state is known
		if st := p.cmd.ProcessState; st != nil {
			reason = "exited during the run (" + st.String() + ")"
		}
		if h.owner.kill(p, reason) {
			h.log.Error("plugin failed during a run", "check", h.spec.Check, "plugin", h.spec.Plugin, "pid", p.pid, "err", err, "state", reason)
		}
		return unknown(sdk.CodePluginCrashed, fmt.Sprintf("plugin %s %s: %v", h.spec.Plugin, reason, status.Convert(err).Message()),
			[]string{"Read the agent's log for the plugin's last stderr lines (panic or fatal error).", "The plugin is restarted on the next run."})
	}
}

func unknown(code, msg string, remediation []string) *sdk.Result {
	return &sdk.Result{
		Status:  sdk.StatusUnknown,
		Summary: msg,
		Diagnoses: []sdk.Diagnosis{{
			Code:        code,
			Severity:    sdk.SeverityCritical,
			Message:     msg,
			Remediation: remediation,
		}},
	}
}

func fromWire(r *pluginv1.CheckResponse) *sdk.Result {
	res := &sdk.Result{Status: sdk.Status(r.GetStatus()), Summary: r.GetSummary()}
	for _, d := range r.GetDiagnoses() {
		res.Diagnoses = append(res.Diagnoses, sdk.Diagnosis{
			Code: d.GetCode(), Severity: sdk.Severity(d.GetSeverity()), Message: d.GetMessage(),
			Remediation: d.GetRemediation(), Details: d.GetDetails(), LogEvent: d.GetLogEvent(),
		})
	}
	for _, m := range r.GetMetrics() {
		res.Metrics = append(res.Metrics, sdk.Metric{
			Name: m.GetName(), Help: m.GetHelp(), Type: sdk.MetricType(m.GetType()), Labels: m.GetLabels(), Value: m.GetValue(),
		})
	}
	for _, e := range r.GetEvents() {
		ev := sdk.Event{Name: e.GetName(), Severity: sdk.Severity(e.GetSeverity()), Message: e.GetMessage(), Labels: e.GetLabels()}
		if t := e.GetTimeUnixNano(); t != 0 {
			ev.Time = time.Unix(0, t)
		}
		res.Events = append(res.Events, ev)
	}
	return res
}

"""An nbconvert execute preprocessor for the Deno kernel that waits for every cell's outputs.

The Deno kernel can report a cell as finished (status "idle") before that cell's last
display_data, stream and execute_result messages are published; nbconvert's ExecutePreprocessor
stops reading a cell's messages at "idle", so those outputs would be lost without an error.

After each code cell this preprocessor runs a small marker request that publishes one output of
each kind (a display by `Deno.jupyter.display` and one by `Deno.jupyter.broadcast`, a log line, a
result) through the same kernel paths as the cell did, and keeps collecting the cell's own late
messages until all of the marker's outputs have arrived: by then everything the cell published has
arrived too. It then checks the count: a prelude wraps
`Deno.jupyter.display` and `Deno.jupyter.broadcast` to count the displays each cell makes, the
marker reports that count, and a cell with fewer display outputs than displays made fails the run,
naming the cell.

Used by lib/report/notebooks.ts as `--HTMLExporter.preprocessors=notebook_executor.DrainingExecutePreprocessor`
with this folder on PYTHONPATH.
"""

import uuid
from time import monotonic

from nbclient.exceptions import CellExecutionError
from nbclient.util import ensure_async, run_sync
from nbconvert.preprocessors import ExecutePreprocessor

MARKER_MIME = "application/x-notebook-runner-marker+json"
COUNTER = 'Symbol.for("notebookRunner.displays")'

PRELUDE = """{
  const jupyter = Deno.jupyter as any;
  const display = jupyter.display;
  const broadcast = jupyter.broadcast;
  const counter = {
    displays: 0,
    display: display.bind(jupyter),
    broadcast: broadcast.bind(jupyter),
  };
  (globalThis as any)[%(counter)s] = counter;
  jupyter.display = (...args: unknown[]) => {
    counter.displays++;
    return display.apply(jupyter, args);
  };
  jupyter.broadcast = (type: string, ...rest: unknown[]) => {
    if (type === "display_data") counter.displays++;
    return broadcast.apply(jupyter, [type, ...rest]);
  };
}
""" % {"counter": COUNTER}

MARKER = """{
  const jupyter = Deno.jupyter as any;
  const counter = (globalThis as any)[%(counter)s] ??
    { displays: -1, display: jupyter.display, broadcast: jupyter.broadcast };
  const displays = counter.displays;
  counter.displays = 0;
  console.log("%(token)s");
  await counter.display({ "%(mime)s": { via: "display", displays } }, { raw: true });
  await counter.broadcast("display_data", {
    data: { "%(mime)s": { via: "broadcast", displays } },
    metadata: {},
    transient: {},
  });
}
"%(token)s";
"""


class MissingOutputError(CellExecutionError):
    """A cell made more displays than the notebook received."""

    def __init__(self, cell_index, made, arrived):
        message = (
            f"cell {cell_index}: the kernel displayed {made} output(s) but {arrived} arrived; "
            "the export would be incomplete"
        )
        super().__init__(message, "MissingOutputError", message)


class DrainingExecutePreprocessor(ExecutePreprocessor):
    """ExecutePreprocessor that drains each cell's late outputs and verifies their count."""

    drain_timeout = 60.0

    async def _request(self, code):
        """Sends `code` for execution outside the notebook's history; returns the message id."""
        return await ensure_async(
            self.kc.execute(code, store_history=False, allow_stdin=False, stop_on_error=False)
        )

    async def _wait_reply(self, msg_id, deadline):
        while True:
            msg = await ensure_async(
                self.kc.shell_channel.get_msg(timeout=max(0.1, deadline - monotonic()))
            )
            if msg["parent_header"].get("msg_id") == msg_id:
                return msg

    async def _run_prelude(self):
        msg_id = await self._request(PRELUDE)
        reply = await self._wait_reply(msg_id, monotonic() + self.drain_timeout)
        if reply["content"].get("status") != "ok":
            raise RuntimeError(f"notebook runner prelude failed: {reply['content']}")

    async def _drain(self, cell, cell_index, cell_msg_id):
        """Collects the cell's messages until the marker's three outputs and its idle arrive."""
        token = uuid.uuid4().hex
        marker_id = await self._request(MARKER % {"counter": COUNTER, "token": token, "mime": MARKER_MIME})
        deadline = monotonic() + self.drain_timeout
        seen = set()
        made = None
        while seen != {"display", "broadcast", "stream", "result", "idle"}:
            remaining = deadline - monotonic()
            if remaining <= 0:
                raise CellExecutionError(
                    f"cell {cell_index}: the kernel's outputs did not drain within "
                    f"{self.drain_timeout:.0f}s (seen {sorted(seen)})",
                    "DrainTimeout",
                    "",
                )
            msg = await ensure_async(self.kc.iopub_channel.get_msg(timeout=remaining))
            parent = msg["parent_header"].get("msg_id")
            kind = msg["msg_type"]
            content = msg["content"]
            if parent == cell_msg_id:
                if kind != "status":
                    self.process_message(msg, cell, cell_index)
            elif parent == marker_id:
                if kind == "display_data" and MARKER_MIME in content.get("data", {}):
                    marker = content["data"][MARKER_MIME]
                    seen.add(marker["via"])
                    made = marker["displays"]
                elif kind == "stream" and token in content.get("text", ""):
                    seen.add("stream")
                elif kind == "execute_result":
                    seen.add("result")
                elif kind == "status" and content.get("execution_state") == "idle":
                    seen.add("idle")
        await self._wait_reply(marker_id, deadline)
        arrived = sum(1 for o in cell.get("outputs", []) if o.get("output_type") == "display_data")
        if made is not None and made >= 0 and arrived < made:
            raise MissingOutputError(cell_index, made, arrived)

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        if cell.cell_type != "code" or not cell.source.strip():
            return await super().async_execute_cell(
                cell, cell_index, execution_count, store_history
            )
        if not getattr(self, "_prelude_done", False):
            await self._run_prelude()
            self._prelude_done = True
            self._cells_run = 0
        self._cells_run += 1
        sent = []
        execute = self.kc.execute

        def recording_execute(*args, **kwargs):
            msg_id = execute(*args, **kwargs)
            sent.append(msg_id)
            return msg_id

        self.kc.execute = recording_execute
        try:
            # The marker requests advance the kernel's counter, so the cells are numbered here.
            cell = await super().async_execute_cell(
                cell, cell_index, execution_count or self._cells_run, store_history
            )
        finally:
            self.kc.execute = execute
        await self._drain(cell, cell_index, sent[0])
        self.nb["cells"][cell_index] = cell
        return cell

    execute_cell = run_sync(async_execute_cell)

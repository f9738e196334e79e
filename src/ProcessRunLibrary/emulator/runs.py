"""Process runs: their lifecycle derived from the clock, start, stop, delete, outputs."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any, NamedTuple

from . import signing
from .common import (
    CALLBACK_EVENTS,
    ENDED_STATES,
    ID_NAMESPACE,
    RUN_STATES,
    START_TYPES,
    bad_request,
    conflict,
    duration,
    iso,
    page,
)
from .model import Run, StopRequest, Timeline, WorkItem
from .processes import Process
from .workitems import WorkItems


class RunFacts(NamedTuple):
    """Everything a run's JSON is made of at one moment: `facts_json` needs nothing else,
    so the facts are also the key of its encoded answer (server/web.py's `ANSWERS`)."""

    id: str
    state: str
    created: float
    started: float | None
    ended: float | None
    process_id: str
    process_name: str


def facts_json(facts: RunFacts) -> dict[str, Any]:
    return {
        "id": facts.id,
        "state": facts.state,
        "created_at": iso(facts.created),
        "started_at": iso(facts.started),
        "ended_at": iso(facts.ended),
        "duration": duration(facts.created, facts.started, facts.ended),
        "process": {"id": facts.process_id, "name": facts.process_name},
        "started_by": {"type": "api", "details": None},
    }


class Runs(WorkItems):
    def timeline(self, run: Run) -> Timeline:
        """When the run's latest attempt started and ended and how: its first processing,
        or the latest retry of its failed items."""
        if run.attempts:
            return self._retry_timeline(run)
        process = run.process
        natural_start = run.created + process.new_seconds
        natural_end = None if process.run_seconds is None else natural_start + process.run_seconds
        stop = run.stop
        # One Timeline built at the end, not copies of it: this is on every answer's path.
        started: float | None
        if stop is None:
            started, ended, outcome = natural_start, natural_end, process.outcome
            processing_end = natural_end
        else:
            started = natural_start if natural_start <= stop.at else None
            outcome = "completed" if stop.set_done else "unresolved"
            ended, processing_end = stop.at + self.stopping_seconds, stop.at
        if outcome == "unresolved" and ended is not None and self._resolved(run):
            outcome = self._outcome(run, ended)
        return Timeline(started, ended, outcome, processing_end, first_started=started)

    def attempt_timelines(self, run: Run) -> list[Timeline]:
        """The Timeline of each attempt of the run, oldest first: its first processing,
        then each retry (the last one is `timeline(run)`)."""
        return [
            self.timeline(replace(run, attempts=run.attempts[:count]))
            for count in range(len(run.attempts) + 1)
        ]

    def _retry_timeline(self, run: Run) -> Timeline:
        attempt = run.attempts[-1]
        first = self.timeline(replace(run, attempts=[]))
        run_seconds = run.process.run_seconds
        end = None
        if run_seconds is not None:
            end = attempt.at + run_seconds * len(attempt.indexes) / len(run.items)
        ended, processing_end = end, end
        if attempt.stop is not None:
            ended, processing_end = attempt.stop.at + self.stopping_seconds, attempt.stop.at
        outcome = "unresolved" if ended is None else self._outcome(run, ended)
        return Timeline(
            attempt.at,
            ended,
            outcome,
            processing_end,
            attempt=len(run.attempts) + 1,
            first_started=first.started,
        )

    @staticmethod
    def _resolved(run: Run) -> bool:
        """Whether some item was marked as done or deleted."""
        return bool(run.deleted_items) or any(item.done_at is not None for item in run.items)

    def _outcome(self, run: Run, ended: float) -> str:
        """`unresolved` while an item that is not deleted ends failed, else `completed`."""
        for index, item in enumerate(run.items):
            if index in run.deleted_items or item.done_at is not None:
                continue
            if self.item_view(run, index, ended).state == "failed":
                return "unresolved"
        return "completed"

    @staticmethod
    def latest_stop(run: Run) -> StopRequest | None:
        """The stop request of the run's latest attempt."""
        return run.attempts[-1].stop if run.attempts else run.stop

    def run_state(self, run: Run, now: float, line: Timeline | None = None) -> str:
        """The run's state at `now`; `line`: its timeline when the caller has it already."""
        line = self.timeline(run) if line is None else line
        if line.ended is not None and now >= line.ended:
            return line.outcome
        stop = self.latest_stop(run)
        if stop is not None and now >= stop.at:
            return "stopping"
        if line.started is None or now < line.started:
            return "new"
        return "in_progress"

    def has_ended(self, run: Run, now: float) -> bool:
        return self.run_state(run, now) in ENDED_STATES

    def start_run(self, process_id: str, body: Any) -> dict[str, Any]:
        """Start a run from a start request body (already parsed JSON, None for no body)."""
        process = self._process(process_id)
        start_type, callback, payloads = self._parse_start_body(body)
        now = self.clock.now()
        self._check_parallel(process, now)
        items: list[WorkItem]
        if start_type != "default" and start_type != "with_inputs" and not payloads:
            return {"started": False}  # an empty list: nothing to process, as an empty queue
        if start_type == "with_inputs":
            items = self.queues.get(process_id, [])
            if not items:
                return {"started": False}
            self.queues[process_id] = []
        elif start_type == "with_work_item_ids":
            items = [self._take_item(item_id, process_id, now) for item_id in payloads]
        elif start_type == "with_payloads":
            items = [self._new_item(process_id, p, now) for p in payloads]
        else:
            payload = {} if process.default_work_item is None else process.default_work_item
            items = [self._new_item(process_id, payload, now)]
        run = Run(
            id=str(uuid.uuid4()),
            seq=self._next_seq(),
            process=process,
            created=now,
            items=items,
            start_type=start_type,
            callback=callback,
        )
        self._register_files(run)
        self.runs[run.id] = run
        return {"started": True, "id": run.id}

    def start_for_integration(self, process_id: str, payload: Any) -> dict[str, Any]:
        process = self._process(process_id)
        now = self.clock.now()
        self._check_parallel(process, now)
        run = Run(
            id=str(uuid.uuid4()),
            seq=self._next_seq(),
            process=process,
            created=now,
            items=[self._new_item(process_id, payload, now)],
            start_type="integration",
        )
        self._register_files(run)
        self.runs[run.id] = run
        return {"started": True, "id": run.id}

    def _check_parallel(self, process: Process, now: float) -> None:
        if process.allow_parallel_runs:
            return
        for run in self.runs.values():
            if (
                run.process.id == process.id
                and run.deleted_at is None
                and not self.has_ended(run, now)
            ):
                raise conflict(
                    f"Process '{process.id}' already has a process run that has not ended "
                    f"('{run.id}') and does not allow parallel runs."
                )

    def _take_item(self, item_id: str, process_id: str, now: float) -> WorkItem:
        """A work item for a new run: a queued item is taken from the queue, an item of an
        earlier run is copied (its payload and files go into a new work item)."""
        item = self.items.get(item_id)
        if item is None:
            raise bad_request(f"Work item '{item_id}' not found.")
        queue = self.queues.get(item.process_id, [])
        if item in queue:
            queue.remove(item)
            return item
        return self.copy_item(item, process_id, now)

    def _parse_start_body(self, body: Any) -> tuple[str, dict[str, Any] | None, list[Any]]:
        if body is None:
            return "default", None, []
        if not isinstance(body, dict):
            raise bad_request("The request body must be a JSON object.")
        callback = _parse_callback(body["callback"]) if "callback" in body else None
        start_type = body.get("type")
        if start_type is None:  # other fields are ignored, as the schema allows them
            return "default", callback, []
        if start_type not in START_TYPES:
            raise bad_request(f"'type' must be one of {', '.join(START_TYPES)}.")
        if start_type == "with_inputs":
            return start_type, callback, []
        key = "work_item_ids" if start_type == "with_work_item_ids" else "payloads"
        values = body.get(key)
        if not isinstance(values, list):
            raise bad_request(f"'{key}' must be a list when 'type' is '{start_type}'.")
        if key == "work_item_ids" and not all(isinstance(v, str) and v for v in values):
            raise bad_request("'work_item_ids' must be a list of work item id strings.")
        return start_type, callback, values

    def _register_files(self, run: Run) -> None:
        outputs = run.process.outputs
        if isinstance(outputs, str):
            return
        for o_index, spec in enumerate(outputs):
            ids = []
            for f_index, file in enumerate(spec.files):
                file_id = str(uuid.uuid5(ID_NAMESPACE, f"{run.id}/{o_index}/{f_index}"))
                self.files[file_id] = file
                ids.append(file_id)
            run.file_ids.append(ids)

    def get_run(self, run_id: str) -> dict[str, Any]:
        return self.run_json(self._run(run_id), self.clock.now())

    def get_run_facts(self, run_id: str) -> RunFacts:
        return self.run_facts(self._run(run_id), self.clock.now())

    def run_json(self, run: Run, now: float) -> dict[str, Any]:
        return facts_json(self.run_facts(run, now))

    def run_facts(self, run: Run, now: float) -> RunFacts:
        line = self.timeline(run)
        state = self.run_state(run, now, line)
        # A retried run keeps the start of its first attempt.
        first = line.started if line.first_started is None else line.first_started
        started = first if first is not None and now >= first else None
        ended = line.ended if state in ENDED_STATES else None
        return RunFacts(
            run.id, state, run.created, started, ended, run.process.id, run.process.name
        )

    def list_runs(
        self, process_id: str | None, state: str | None, limit: int, cursor: int | None
    ) -> tuple[list[dict[str, Any]], int | None]:
        """One page of runs, newest first; returns the page and the cursor of the next one."""
        facts, cursor = self.list_run_facts(process_id, state, limit, cursor)
        return [facts_json(f) for f in facts], cursor

    def list_run_facts(
        self, process_id: str | None, state: str | None, limit: int, cursor: int | None
    ) -> tuple[list[RunFacts], int | None]:
        """As list_runs, each run as its RunFacts (the key of its encoded answer)."""
        if state is not None and state not in RUN_STATES:
            raise bad_request(f"'state' must be one of {', '.join(RUN_STATES)}.")
        now = self.clock.now()
        # Newest first without sorting: runs enter `self.runs` as they are numbered.
        candidates = (
            r
            for r in reversed(self.runs.values())
            if r.deleted_at is None
            and (cursor is None or r.seq < cursor)
            and (process_id is None or r.process.id == process_id)
            and (state is None or self.run_state(r, now) == state)
        )
        return page(candidates, limit, lambda r: r.seq, lambda r: self.run_facts(r, now))

    def stop_run(self, run_id: str, body: Any) -> dict[str, Any]:
        run = self._run(run_id)
        if not isinstance(body, dict):
            raise bad_request("The request body must be a JSON object.")
        for key in ("set_remaining_work_items_as_done", "terminate_ongoing_activity_runs"):
            if not isinstance(body.get(key), bool):
                raise bad_request(f"'{key}' is required and must be true or false.")
        reason = body.get("reason")
        if reason is not None and not isinstance(reason, str):
            raise bad_request("'reason' must be a string.")
        now = self.clock.now()
        if self.has_ended(run, now):
            return {"accepted": False}
        if self.latest_stop(run) is None:
            stop = StopRequest(
                at=now,
                set_done=body["set_remaining_work_items_as_done"],
                terminate=body["terminate_ongoing_activity_runs"],
                reason=reason,
            )
            if run.attempts:
                run.attempts[-1].stop = stop
            else:
                run.stop = stop
        return {"accepted": True}

    def delete_run(self, run_id: str) -> dict[str, Any]:
        run = self._run(run_id)
        now = self.clock.now()
        state = self.run_state(run, now)
        if state not in ENDED_STATES:
            raise conflict(
                f"Process run '{run_id}' has not ended (state '{state}'): only completed or "
                "unresolved process runs can be deleted."
            )
        run.deleted_at = now
        return {"id": run.id, "deleted": True}

    def _outputs(self, run: Run, now: float, base_url: str) -> list[dict[str, Any]]:
        line = self.timeline(run)
        if line.ended is None or now < line.ended:
            return []
        created = iso(line.ended)
        reference = {"process": {"id": run.process.id}, "process_run": {"id": run.id}}
        outputs: list[dict[str, Any]] = []
        if isinstance(run.process.outputs, str):  # "echo"
            for index, item in enumerate(run.items):
                if self.item_view(run, index, now).state == "done":
                    outputs.append(
                        {
                            "id": str(uuid.uuid5(ID_NAMESPACE, f"{run.id}/output/{index}")),
                            "created_at": created,
                            **reference,
                            "payload": item.payload,
                            "files": [],
                        }
                    )
            return outputs
        for index, spec in enumerate(run.process.outputs):
            files = [
                {
                    "id": file_id,
                    "name": file.name,
                    "size": len(file.content),
                    "download": {"url": self.signed_url(base_url, f"/_emulator/files/{file_id}")},
                }
                for file_id, file in zip(run.file_ids[index], spec.files, strict=True)
            ]
            outputs.append(
                {
                    "id": str(uuid.uuid5(ID_NAMESPACE, f"{run.id}/output/{index}")),
                    "created_at": created,
                    **reference,
                    "payload": spec.payload,
                    "files": files,
                }
            )
        return outputs

    def signed_url(self, base_url: str, path: str) -> str:
        """A download URL that expires after ``url_expiry_seconds`` (real time)."""
        return f"{base_url}{path}?{signing.sign(path, self.url_expiry_seconds)}"

    def list_outputs(
        self, run_id: str, limit: int, cursor: int | None, base_url: str
    ) -> tuple[list[dict[str, Any]], int | None]:
        """Outputs of one run in the order they were produced. An unknown run has none
        (the seed documents no 404 for this operation)."""
        run = self.runs.get(run_id)
        if run is None or run.deleted_at is not None:
            return [], None
        outputs = self._outputs(run, self.clock.now(), base_url)
        start = 0 if cursor is None else cursor
        page = outputs[start : start + limit]
        more = start + limit < len(outputs)
        return page, (start + limit if more else None)


def _parse_callback(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise bad_request("'callback' must be an object with url, secret and callback_events.")
    for key in ("url", "secret"):
        if not isinstance(value.get(key), str) or not value[key]:
            raise bad_request(f"'callback.{key}' is required and must be a non-empty string.")
    events = value.get("callback_events")
    if not isinstance(events, list) or not events or not all(e in CALLBACK_EVENTS for e in events):
        raise bad_request(
            "'callback.callback_events' is required and must list some of "
            f"{', '.join(CALLBACK_EVENTS)}."
        )
    return {"url": value["url"], "secret": value["secret"], "callback_events": list(events)}

"""Conductor event handlers as code: ID Flow's `event_handlers.json` files against `/api/event`.

`files` reads the local files, `model` validates, normalises and compares one handler,
`plan` decides an upload or a purge (pure), `apply` writes or deletes and reads back.

Measured on Conductor OSS 3.32.3:
- `GET /api/event` lists every handler. There is no GET by name (`GET /api/event/{x}`
  lists the handlers of *event* x), so a read-back reads the whole list.
- `POST /api/event` creates one; for a name already there it answers 500
  "EventHandler with name X already exists!" (not 409). `PUT /api/event` replaces the
  whole handler (a field left out is gone); for a missing name it answers 500
  "... not found!" (not 404). `DELETE /api/event/{name}` answers 200, and 500
  "... not found!" for a missing name; the client turns both "not found" answers
  into `NotFound`. Names with `#`, `?`, `%`, `.` or spaces are addressed exactly
  when the path segment is percent-encoded (`idflow.conductor.paths`).
- Missing `event` or empty `actions` are 400 with validation errors; an unknown
  `action` type is a 500 (JSON parse error). `evaluatorType` is stored as given, even
  an unknown value, and never filled in; `condition` is kept as given ("" too) and
  left out when null.
- Defaults the server fills in, which a diff must not count: `active: false` when
  missing; `expandInlineJSON: false` on every action; `input: {}` in start_workflow,
  `output: {}` in complete_task and fail_task. Null values are dropped at the handler,
  action and action-parameter level (not inside input/output maps).
- Every other key is dropped: `description`, `tags`, `createdBy` at the top level and
  unknown keys in an action or in its parameters do not survive a round trip.

Ownership (`events purge --orphaned`). A handler has no description, tag or free key
that survives a round trip, and the only free-form places that do survive
(start_workflow `input`, `correlationId`, `taskToDomain`) change what the handler does.
So the stamp lives beside the handlers: each project's ledger on the server
(`idflow.events.ledger`, on `idflow.engine.ledger`) names the handlers it uploaded and the hash of each as written.
A remote handler in no local file is this project's orphan only when its ledger names it
and the server's copy is unchanged since; any other handler is kept with the reason,
whatever its event or actions target (a complete_task, fail_task or start_workflow on one
of this project's workflows included), and can be deleted by name. The run refuses
(exit 3) when a local event_handlers.json cannot be read, because it could hide a handler.
"""
from idflow.events.apply import DELETED, WRITTEN, apply_upload, execute_purge
from idflow.events.files import LocalHandler, LocalHandlers, load_event_handler_files
from idflow.events.model import Change, differences, normalise, wire
from idflow.events.plan import EventPlan, EventPurgePlan, HandlerItem, plan_purge, plan_upload

__all__ = ["Change", "DELETED", "WRITTEN", "EventPlan", "EventPurgePlan", "HandlerItem", "LocalHandler", "LocalHandlers",
           "apply_upload", "differences", "execute_purge", "load_event_handler_files", "normalise",
           "plan_purge", "plan_upload", "wire"]

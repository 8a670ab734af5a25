"""An alert on drift: `python -m idflow.flows.alerts WEBHOOK_URL` sets up a Prefect automation.

A drift report that finds drift ends in a state named Drift, which Prefect emits as the event
`prefect.flow-run.Drift` (with or without fail_on_drift). This saves a webhook notification block
(`idflow-drift-alert`) that posts `{"text": ...}` to the URL (Slack's and Teams' incoming webhooks
take that shape), and an automation (`idflow: drift found`) that sends to it on every such event:
the run's name says what was found, and the message links to the run. Running it again replaces
both, so a new URL is one command. Nothing here writes to Conductor.
"""
from __future__ import annotations

import sys
from typing import Any

from prefect.automations import Automation
from prefect.blocks.notifications import CustomWebhookNotificationBlock

AUTOMATION = "idflow: drift found"
BLOCK = "idflow-drift-alert"
EVENT = "prefect.flow-run.Drift"
SUBJECT = "idflow drift: {{ flow_run.name }}"
BODY = ("{{ flow_run.state.message }} (flow {{ flow.name }}, deployment {{ deployment.name }}). "
        "The run: {{ flow_run|ui_url }}")


def automation_spec(block_id: str) -> dict[str, Any]:
    """The automation, as `prefect automation create --from-json` takes it."""
    return {
        "name": AUTOMATION,
        "description": "Written by idflow.flows.alerts: a drift report found drift.",
        "enabled": True,
        "trigger": {"type": "event", "posture": "Reactive", "expect": [EVENT], "threshold": 1, "within": 0,
                    "match": {"prefect.resource.id": "prefect.flow-run.*"}},
        "actions": [{"type": "send-notification", "block_document_id": block_id, "subject": SUBJECT,
                     "body": BODY}],
    }


def install(url: str) -> tuple[str, str]:
    """Save the block and (re)create the automation; returns (block id, automation id)."""
    block = CustomWebhookNotificationBlock(name="idflow drift", url=url, method="POST",
                                           json_data={"text": "{{subject}}\n{{body}}"})
    block_id = str(block.save(BLOCK, overwrite=True))
    try:
        Automation.read(name=AUTOMATION).delete()
    except ValueError:  # none yet
        pass
    created = Automation.model_validate(automation_spec(block_id)).create()
    return block_id, str(created.id)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not args[0].startswith(("http://", "https://")):
        print("usage: python -m idflow.flows.alerts WEBHOOK_URL   (an http(s) URL that takes a JSON POST)",
              file=sys.stderr)
        return 2
    block_id, automation_id = install(args[0])
    print(f"automation {AUTOMATION!r} ({automation_id}): on {EVENT}, POST to the block {BLOCK!r} ({block_id})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A task-list fetch made with an agent's own identity, from the test: what the server hands out
to it, as it would to the agent (e.g. while the real agent is frozen and will never run it)."""

from __future__ import annotations

import asyncio

from openassist.agent.channel import Channel
from openassist.agent.identity import load
from tests.support.cluster import Agent


def take_tasks(agent: Agent) -> list[str]:
    """Fetch ``agent``'s task list once; the ids of the runs the server handed out."""

    async def take() -> list[str]:
        channel = Channel(load(agent.state_dir))
        try:
            answer = await channel.task_list("kickoff")
        finally:
            await channel.close()
        return [item.task.taskID for item in answer.run]

    return asyncio.run(take())

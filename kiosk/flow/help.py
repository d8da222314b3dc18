"""呼叫工作人员 in the flow: while a resident waits for a person, the kiosk does not time out.

The help window (kiosk/assist.py) opens over whatever screen the resident is on and changes
nothing under it; it only holds the idle timeout off, so a resident who waits three minutes for
staff finds their half-filed request still there. Pure; one of the journeys of
:class:`kiosk.flow.Flow`::

    flow.wait_for_staff()      # the window opens
    flow.idle_phase()          # ACTIVE however long it stays open
    flow.stop_waiting()        # "back to where I was": the idle clock starts again from now
"""

from __future__ import annotations

from typing import Any

from kiosk.flow.navigation import Navigation

__all__ = ["HelpWait"]


class HelpWait(Navigation):
    def __init__(self, **shared: Any) -> None:
        super().__init__(**shared)
        self.waiting_for_staff = False

    def wait_for_staff(self) -> None:
        self.waiting_for_staff = True
        self.touched()

    def stop_waiting(self) -> None:
        self.waiting_for_staff = False
        self.touched()

    def _keeps_awake(self) -> bool:
        return self.waiting_for_staff or super()._keeps_awake()

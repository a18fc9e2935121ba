"""The process editor (issue scope 9): processes, their draft overlay, simulate, publish, and the
workspace's working calendar. Routes live on the kernel blueprint `suite.views.bp`.
"""

from suite.workflow.admin import publish, views, work_calendar

__all__ = ["publish", "views", "work_calendar"]

"""The process editor (issue scope 9): processes, their draft overlay, simulate, publish, and the
workspace's working calendar. Routes live on the kernel blueprint `suite.views.bp`.
"""

from suite.workflow.admin import views, work_calendar

__all__ = ["views", "work_calendar"]

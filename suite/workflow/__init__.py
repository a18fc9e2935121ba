"""The workflow kernel (审批流): process specs, planning, applying, timers and calendars."""

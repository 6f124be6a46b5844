"""The audit trail: every change, who made it, and the resource before and after."""

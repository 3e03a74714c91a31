"""Debugging guest programs: the interactive monitor (``recomp mon``), on the runtime's
breakpoints, watchpoints, hooks and traces."""

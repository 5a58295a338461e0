"""Production scheduling: flexible job shop, dispatch rules, CP-SAT, dynamic re-scheduling."""

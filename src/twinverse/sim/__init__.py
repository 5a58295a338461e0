"""Simulation: the factory line, the supply network, disruptions, Monte Carlo runs and their KPIs.

Each subpackage or module owns one kind of simulation; :mod:`twinverse.sim.line`
is the discrete-event model of one production line.
"""

"""The live twin: a simulated OPC UA plant, OPC UA and MQTT ingest, control write-back."""

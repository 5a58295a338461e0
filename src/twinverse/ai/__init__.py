"""Industrial AI: remaining useful life, anomaly detection, questions about the twin."""

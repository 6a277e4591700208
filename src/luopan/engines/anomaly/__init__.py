"""Anomaly detection on daily metric series, one series or many slices at once.

``AnomalyDetector(...).fit(history).detect(data)`` (or ``detect_anomalies(data)``) returns a
frozen ``AnomalyResult`` with, for every point, the expected value, the interval, a robust
score, a sustained-shift score, the verdict with its direction, and the holiday/festival label
of the day. Chinese public holidays and shopping festivals (618, 双11, 双12, 年货节, 38节)
are known events, judged against the same day of last year's event. Method and references:
``luopan.engines.anomaly.score``.
"""

from luopan.engines.anomaly.calendar import (
    EventWindow,
    china_events,
    public_holidays,
    shopping_festivals,
)
from luopan.engines.anomaly.detector import AnomalyDetector, detect_anomalies
from luopan.engines.anomaly.result import AnomalyPoint, AnomalyResult, DetectorParams

__all__ = [
    "AnomalyDetector",
    "AnomalyPoint",
    "AnomalyResult",
    "DetectorParams",
    "EventWindow",
    "china_events",
    "detect_anomalies",
    "public_holidays",
    "shopping_festivals",
]

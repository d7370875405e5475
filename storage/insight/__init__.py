"""Knowing customers' value: RFM scores and segments, the value pyramid (重要客户 / 次要客户 / 普通客户 /
小客户), P(alive), expected purchases and lifetime value, computed from the purchases by a nightly run
and kept current after each purchase; the scores' history, so moves between segments can be counted.
Imports core, people and loyalty; care (and the contexts above) act on what it knows."""

"""The outbox: work to do later, written in the same transaction as the change that asks for it.

A service calls `outbox.enqueue(...)` inside its transaction; a row is written with a unique key. Once
the transaction commits, the row is published to the broker; if the broker is down the request still
succeeds and the row waits. The periodic relay (`outbox.relay`, also `manage.py outbox_relay`) publishes
what is left when the broker answers again. See docs/decisions/0301-outbox.md.
"""

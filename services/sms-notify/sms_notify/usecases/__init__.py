"""What sms-notify does, one module per subject: each command reads, checks the rules and
writes in one step. Imports point down only: to domain/, adapters/, store.py, settings, deps."""

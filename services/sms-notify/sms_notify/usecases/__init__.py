"""What sms-notify does, one module per subject. Each command reads, checks the rules and
writes with its guards in one transaction. Imports point down only: to domain/, adapters/,
store, settings and deps, and among the use cases only to one listed above it here:

    common            reading an event's payload (the bottom)
    teaching          whose child is whose (the registry), who teaches the child (events)
    outgoing          every message's way out: render, count segments, the rules, store once
    delivery          sending stored messages: claims, retries, dead letters, delivery statuses
    notifications     the events other services publish about a person -> messages
    preferences       a person's language, channels, kinds wanted, quiet hours
    messages          what was sent: to me; to one address (admins)
    dead_letters      messages that failed for good, and their one re-send
    delivery_reports  the providers' signed delivery reports
    balance           the prepaid SMS balance: top-ups, charges, the run-out notice
    subscriptions     a parent's paid SMS subscriptions, phone confirmations, paid sending
    homework          the journal's homework -> the subscribed phones
    grades            the journal's grades -> the weekly digest
    conversations     parents and teachers, with attachments
"""

import PorterPostgres
import PorterTesting
import Testing

@Suite struct PostgresListenerTests {
    @Test func notificationInATransactionArrivesOnlyAfterCommit() async throws {
        let database = try await TestDatabase.create(migrated: false)
        let listener = PQListener(database.configuration)
        defer { listener.stop() }
        try await listener.listen("porter_test")
        var notifications = listener.notifications(channel: "porter_test").makeAsyncIterator()

        let sender = try await database.connect()
        let marker = try await database.connect()
        try await sender.execute("BEGIN")
        try await sender.query("SELECT pg_notify('porter_test', 'inside')")
        // Notifications arrive in commit order: the marker, committed while the transaction
        // is still open, must come first.
        try await marker.query("SELECT pg_notify('porter_test', 'marker')")
        #expect(await notifications.next()?.payload == "marker")
        try await sender.execute("COMMIT")
        #expect(await notifications.next()?.payload == "inside")

        try await sender.execute("BEGIN")
        try await sender.query("SELECT pg_notify('porter_test', 'rolled back')")
        try await sender.execute("ROLLBACK")
        try await marker.query("SELECT pg_notify('porter_test', 'after rollback')")
        #expect(await notifications.next()?.payload == "after rollback")
    }

    @Test func listenerReconnectsAndListensAgainAfterTermination() async throws {
        let database = try await TestDatabase.create(migrated: false)
        let listener = PQListener(database.configuration, reconnectDelay: .milliseconds(20))
        defer { listener.stop() }
        try await listener.listen("porter_test")
        var events = listener.events().makeAsyncIterator()

        let admin = try await database.connect()
        let terminated = try await admin.query(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND datname = current_database() AND query LIKE 'LISTEN%'"
        ).single(Int.self)
        #expect(terminated == 1)
        #expect(await events.next() == .reconnected)

        try await admin.query("SELECT pg_notify('porter_test', 'after reconnect')")
        guard case .notification(let notification) = await events.next() else {
            Issue.record("expected a notification")
            return
        }
        #expect(notification.payload == "after reconnect")
    }
}

import Porter
import ServiceLifecycle

/// Porter's realtime listener as a service of the app: one LISTEN connection that every
/// `/events` stream subscribes to, stopped when the app shuts down. `start()` runs before
/// the server takes requests (`beforeServerStarts`), so no stream misses an event.
struct RealtimeService: Service {
    let listener: RealtimeListener

    func run() async throws {
        try? await gracefulShutdown()
        listener.stop()
    }
}

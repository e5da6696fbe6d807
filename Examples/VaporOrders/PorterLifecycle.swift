import Porter
import ServiceLifecycle
import Vapor

/// Porter inside a Vapor app's process, with the app's lifecycle: the worker starts when the
/// app has booted and, on shutdown (SIGTERM, SIGINT, `app.asyncShutdown()`), finishes the
/// jobs it holds and takes no more before the Porter client closes. Vapor shuts lifecycle
/// handlers down after the HTTP server has stopped and before Fluent's databases close, so
/// jobs that use `app.db` can finish too.
///
/// ```swift
/// app.lifecycle.use(PorterLifecycle(porter: porter, worker: Worker(client: porter, queues: ["short"], logger: app.logger)))
/// ```
///
/// Vapor 4 has no ServiceGroup of its own, so the worker runs in a `ServiceGroup` of one,
/// whose graceful shutdown is Porter's drain; `worker` nil only closes the client, for an app
/// whose jobs run in a separate `porter worker`. Booted by `Application.make` + `execute()`
/// (the async path); tests call `app.asyncBoot()` before `app.testing()`.
actor PorterLifecycle: LifecycleHandler {
    let porter: PorterClient
    private let group: ServiceGroup?
    private var running: Task<Void, Never>?

    init(porter: PorterClient, worker: Worker?) {
        self.porter = porter
        self.group = worker.map {
            ServiceGroup(configuration: .init(services: [.init(service: $0)], logger: porter.logger))
        }
    }

    func didBootAsync(_ application: Application) async throws {
        guard let group, running == nil else { return }
        let logger = application.logger
        // Unstructured, since Vapor gives handlers no scope that outlives didBoot;
        // shutdownAsync awaits it.
        running = Task {
            do {
                try await group.run()
            } catch {
                logger.error("Porter's worker stopped: \(error)")
            }
        }
    }

    func shutdownAsync(_ application: Application) async {
        if let group, let running {
            await group.triggerGracefulShutdown()
            await running.value
        }
        await porter.close()
    }
}

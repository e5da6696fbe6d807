// swift-tools-version:6.1
import PackageDescription

// Every target builds in Swift 6 language mode (strict concurrency, no data races).
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "porter",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "Porter", targets: ["Porter"]),
        .library(name: "PorterPostgres", targets: ["PorterPostgres"]),
        .library(name: "PorterTesting", targets: ["PorterTesting"]),
        .library(name: "PorterCLI", targets: ["PorterCLI"]),
        // Enqueue on postgres-nio's PostgresConnection. Its own product, so that apps that do
        // not use postgres-nio do not build it (it adds minutes to a clean build).
        .library(name: "PorterPostgresNIO", targets: ["PorterPostgresNIO"]),
        // Enqueue on a Fluent `Database` (Vapor's `req.db`, inside `transaction`). Its own
        // product, so that apps without Fluent never build it; no other product depends on it.
        .library(name: "PorterFluent", targets: ["PorterFluent"]),
        .executable(name: "porter", targets: ["porter"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        // Porter's spans: a producer span per enqueue, a consumer span per attempt, the W3C trace
        // context stored with the job. The API only; the app (or the porter executable) picks
        // the tracer. Already in the graph through postgres-nio.
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        // The porter executable only: exports those spans over OTLP/HTTP when the OTEL_*
        // variables ask for it. OTLPHTTP alone, so gRPC and its dependencies are not built.
        .package(url: "https://github.com/swift-otel/swift-otel.git", from: "1.6.0", traits: ["OTLPHTTP"]),
        // Tests only: a local OTLP/HTTP receiver (NIOHTTP1). Already in the graph.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        // PorterPostgresNIO, and the Hummingbird example app.
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        // Porter's counters, timers and gauges, for whatever backend the app bootstraps.
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        // The porter executable's HTTP side only (PorterWeb): /metrics, health and the dashboard.
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        // PorterFluent (FluentKit only), and the Vapor example app and its tests (Vapor, Fluent
        // and its PostgreSQL driver). None of Porter's other products depends on them.
        .package(url: "https://github.com/vapor/fluent-kit.git", from: "1.57.0"),
        .package(url: "https://github.com/vapor/vapor.git", from: "4.122.3"),
        .package(url: "https://github.com/vapor/fluent.git", from: "4.13.0"),
        .package(url: "https://github.com/vapor/fluent-postgres-driver.git", from: "2.14.0"),
        // Tests only: property-based checks that no outside number traps.
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        // `swift package generate-documentation`: the DocC catalogs. Built only when run.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin.git", from: "1.5.0"),
    ],
    targets: [
        // libpq, found with pkg-config (Debian: libpq-dev + pkgconf).
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev", "pkgconf"])]
        ),
        // The thin libpq layer. Knows nothing about jobs; the only importer of CLibPQ.
        .target(
            name: "PorterPostgres",
            dependencies: [
                "CLibPQ",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The queue core: job model, enqueue, migrations.
        .target(
            name: "Porter",
            dependencies: [
                "PorterPostgres",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        // Shipped test helpers: a throwaway database per test, a worker harness, a job factory
        // and expectations on enqueued jobs.
        .target(
            name: "PorterTesting",
            dependencies: [
                "Porter", "PorterPostgres",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        // The CLI as a library, so a user's own executable can register its Swift jobs and
        // get the same commands.
        .target(
            name: "PorterCLI",
            dependencies: [
                "Porter",
                "PorterPostgres",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Enqueue, enqueue_many, enqueue_doc and publish_realtime on a postgres-nio connection,
        // inside the app's own transaction, through the same SQL functions as Porter's own path.
        .target(
            name: "PorterPostgresNIO",
            dependencies: [
                "Porter",
                "PorterPostgres",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // PorterPostgresNIO's enqueue, enqueue_many, enqueue_doc and publish_realtime on a Fluent
        // `Database`, on the connection of the transaction it belongs to. FluentKit for the
        // `Database` protocol, PostgresNIO for `PostgresDatabase`: not Vapor, nor the driver.
        .target(
            name: "PorterFluent",
            dependencies: [
                "Porter",
                "PorterPostgres",
                "PorterPostgresNIO",
                .product(name: "FluentKit", package: "fluent-kit"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The porter executable's HTTP servers: the Prometheus endpoint with health checks
        // beside `porter worker`, and `porter dashboard`. In no product, so no library users
        // link carries Hummingbird or Prometheus.
        .target(
            name: "PorterWeb",
            dependencies: [
                "Porter",
                "PorterPostgres",
                "PorterCLI",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // ScoopJoy's demo and the benchmarks: the `porter` executable's own, not in any product.
        .target(
            name: "PorterDemo",
            dependencies: [
                "Porter",
                "PorterPostgres",
                "PorterCLI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PorterBench",
            dependencies: [
                "Porter",
                "PorterPostgres",
                "PorterCLI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The `porter` executable: the CLI with Porter's built-in jobs, the demo, the benchmarks
        // and the HTTP servers.
        .executableTarget(
            name: "porter",
            dependencies: [
                "PorterCLI", "PorterDemo", "PorterBench", "PorterWeb", "Porter",
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Small runnable programs that show the API; built with everything else.
        .executableTarget(
            name: "porter-example-order-service",
            dependencies: ["Porter", "PorterPostgres"],
            path: "Examples/OrderService",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "porter-example-worker-service",
            dependencies: [
                "Porter",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Examples/WorkerService",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "porter-example-custom-porter",
            dependencies: ["Porter", "PorterCLI"],
            path: "Examples/CustomPorter",
            swiftSettings: swiftSettings
        ),
        // Enqueue on a postgres-nio connection, with PostgresNIO, Porter and PorterPostgres all
        // imported: their names must not clash.
        .executableTarget(
            name: "porter-example-postgres-nio",
            dependencies: [
                "Porter",
                "PorterPostgres",
                "PorterPostgresNIO",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Examples/PostgresNIOOrders",
            swiftSettings: swiftSettings
        ),
        // A Hummingbird 2 service: orders and their jobs in one postgres-nio transaction, job
        // status and server-sent progress over HTTP, the worker in the app's ServiceGroup.
        .executableTarget(
            name: "porter-example-hummingbird",
            dependencies: [
                "Porter",
                "PorterPostgresNIO",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Examples/HummingbirdOrders",
            swiftSettings: swiftSettings
        ),
        // A Vapor 4 + Fluent service: an order and its confirmation job in one Fluent
        // transaction, the worker run with the app's lifecycle.
        .executableTarget(
            name: "porter-example-vapor",
            dependencies: [
                "Porter",
                "PorterPostgres",
                "PorterPostgresNIO",
                "PorterFluent",
                .product(name: "Vapor", package: "vapor"),
                .product(name: "Fluent", package: "fluent"),
                .product(name: "FluentPostgresDriver", package: "fluent-postgres-driver"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Examples/VaporOrders",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PorterPostgresTests",
            dependencies: ["PorterPostgres", "PorterTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PorterTests",
            dependencies: [
                "Porter", "PorterTesting", "PorterCLI", "PorterBench", "porter",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The pure parts (the claim loop's decisions, cron, end-of-attempt decisions, argument
        // checks): no database, so they run in seconds anywhere.
        .testTarget(
            name: "PorterUnitTests",
            dependencies: [
                "Porter", "PorterPostgres",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: swiftSettings
        ),
        // PorterPostgresNIO and the example apps against a real PostgreSQL, over HTTP.
        .testTarget(
            name: "PorterServerTests",
            dependencies: [
                "Porter", "PorterPostgres", "PorterPostgresNIO", "PorterTesting",
                "porter-example-hummingbird", "porter-example-postgres-nio", "porter-example-order-service",
                "porter-example-worker-service",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        // PorterFluent and the Vapor example over HTTP against a real PostgreSQL. A target of its
        // own, so that the other test targets do not build Vapor.
        .testTarget(
            name: "PorterVaporTests",
            dependencies: [
                "Porter", "PorterPostgres", "PorterPostgresNIO", "PorterFluent", "PorterTesting", "porter-example-vapor",
                .product(name: "Vapor", package: "vapor"),
                .product(name: "VaporTesting", package: "vapor"),
                .product(name: "Fluent", package: "fluent"),
                .product(name: "FluentPostgresDriver", package: "fluent-postgres-driver"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)

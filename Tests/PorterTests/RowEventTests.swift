import Foundation
import Porter
import PorterPostgres
import PorterTesting
import Testing

@Suite struct RowEventTests {
    @Test func rowWritesEnqueueJobsInTheSameTransaction() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await porter.pool.query("CREATE TABLE public.customers (id int PRIMARY KEY, name text, email text)")
        try await porter.pool.query("""
            CREATE TRIGGER customers_notify AFTER INSERT OR UPDATE OR DELETE ON public.customers
                FOR EACH ROW EXECUTE FUNCTION porter.enqueue_row_event('send_customer_notification', 'short')
            """)
        try await porter.pool.query("INSERT INTO public.customers VALUES (1, 'Ada', 'ada@example.com')")
        try await porter.pool.query("UPDATE public.customers SET email = 'ada@scoopjoy.example' WHERE id = 1")
        try await porter.pool.query("DELETE FROM public.customers WHERE id = 1")
        // A write that rolls back leaves no job.
        struct Abandon: Error {}
        await #expect(throws: Abandon.self) {
            try await porter.pool.withTransaction { transaction in
                try transaction.query("INSERT INTO public.customers VALUES (2, 'Bob', NULL)")
                throw Abandon()
            }
        }

        let jobs = try await porter.jobs().sorted { $0.id < $1.id }
        #expect(jobs.count == 3)
        #expect(jobs.allSatisfy { $0.method == "send_customer_notification" && $0.queue == "short" && $0.status == .queued })
        struct Customer: Codable, Equatable { var id: Int; var name: String; var email: String? }
        struct Args: Codable { var event: String; var table: String; var row: Customer; var old: Customer? }
        let args = try jobs.map { try $0.args.decode(Args.self) }
        let ada = Customer(id: 1, name: "Ada", email: "ada@example.com")
        let moved = Customer(id: 1, name: "Ada", email: "ada@scoopjoy.example")
        #expect(args.map(\.event) == ["after_insert", "on_update", "on_trash"])
        #expect(args.allSatisfy { $0.table == "public.customers" })
        #expect(args[0].row == ada && args[0].old == nil)
        #expect(args[1].row == moved && args[1].old == ada)
        #expect(args[2].row == moved && args[2].old == nil)
        await porter.close()
    }

    @Test func misusedRowEventTriggerSaysHowToDeclareIt() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        try await porter.pool.query("CREATE TABLE public.outlets (id int)")
        try await porter.pool.query("""
            CREATE TRIGGER outlets_before BEFORE INSERT ON public.outlets
                FOR EACH ROW EXECUTE FUNCTION porter.enqueue_row_event('app.method')
            """)
        await #expect {
            try await porter.pool.query("INSERT INTO public.outlets VALUES (1)")
        } throws: { error in
            "\(error)".contains("must be AFTER INSERT, UPDATE or DELETE ... FOR EACH ROW")
        }
        #expect(try await porter.pool.query("SELECT count(*) FROM public.outlets").single(Int.self) == 0)
        await porter.close()
    }

    /// `"we.ird"."t"` and `"we"."ird.t"` were both named `we.ird.t`. The name is quoted where
    /// an identifier needs it, as format's %I does, so each table has its own, and
    /// `(args->>'table')::regclass` finds it.
    @Test func tablesWhoseNamesNeedQuotingAreNamedUnambiguously() async throws {
        let database = try await TestDatabase.create()
        let porter = database.makeClient()
        for (schema, table) in [("we.ird", "t"), ("we", "ird.t"), ("Shop", "Order Lines")] {
            try await porter.pool.query("CREATE SCHEMA IF NOT EXISTS \(identifier: schema)")
            try await porter.pool.query("CREATE TABLE \(identifier: schema).\(identifier: table) (id int)")
            try await porter.pool.query("""
                CREATE TRIGGER notify AFTER INSERT ON \(identifier: schema).\(identifier: table)
                    FOR EACH ROW EXECUTE FUNCTION porter.enqueue_row_event('app.method')
                """)
            try await porter.pool.query("INSERT INTO \(identifier: schema).\(identifier: table) VALUES (1)")
        }
        let names = try await porter.pool.query("SELECT args->>'table' FROM porter.jobs ORDER BY id").map { try $0.decode(String.self) }
        #expect(names == [#""we.ird".t"#, #"we."ird.t""#, #""Shop"."Order Lines""#])
        let resolved = try await porter.pool.query(
            "SELECT (args->>'table')::regclass::oid = ANY(ARRAY(SELECT oid FROM pg_class WHERE relname IN ('t', 'ird.t', 'Order Lines'))) FROM porter.jobs"
        ).map { try $0.decode(Bool.self) }
        #expect(resolved == [true, true, true])
        await porter.close()
    }
}

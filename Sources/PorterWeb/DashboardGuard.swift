import Foundation
import Hummingbird

/// Who may use the dashboard. With a token, every request carries it: `Authorization: Bearer
/// T`, or the cookie set when the printed URL (`/?token=T`) is opened once. Without one the
/// dashboard listens on loopback only, and a request must name a loopback host, so a web page
/// elsewhere cannot reach it through a DNS name that points at 127.0.0.1. Every POST (an
/// action) must carry `X-Porter-Dashboard: 1`, which a cross-site form cannot send.
struct DashboardGuard<Context: RequestContext>: RouterMiddleware {
    let token: String?

    static var cookieName: String { "porter_token" }
    static var actionHeader: HTTPFields.Element.Name { HTTPFields.Element.Name("X-Porter-Dashboard")! }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let token {
            let bearer = request.headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
            let cookie = request.cookies[Self.cookieName]?.value
            if !(Self.same(bearer, token) || Self.same(cookie, token)) {
                if request.method == .get, let given = request.uri.queryParameters.get("token"), Self.same(given, token) {
                    // Keep the token in a cookie and take it out of the address bar.
                    var response = Response(status: .seeOther, headers: [.location: request.uri.path])
                    response.headers[.setCookie] = "\(Self.cookieName)=\(token); Path=/; HttpOnly; SameSite=Strict"
                    return response
                }
                return Self.refuse(
                    .unauthorized,
                    "this dashboard needs its token: open the URL `porter dashboard` printed (it ends ?token=...), or send Authorization: Bearer TOKEN")
            }
        } else if !Self.isLoopback(authority: request.head.authority) {
            return Self.refuse(
                .forbidden, "this dashboard answers only requests to 127.0.0.1 or localhost; to serve others, start it with --host and --token")
        }
        if request.method == .post && request.headers[Self.actionHeader] != "1" {
            return Self.refuse(.forbidden, "actions need the header X-Porter-Dashboard: 1")
        }
        return try await next(request, context)
    }

    /// Compares in time that does not depend on where the strings differ.
    static func same(_ given: String?, _ token: String) -> Bool {
        guard let given else { return false }
        let a = Array(given.utf8)
        let b = Array(token.utf8)
        var difference = a.count ^ b.count
        for index in 0..<max(a.count, b.count) {
            difference |= Int((index < a.count ? a[index] : 0) ^ (index < b.count ? b[index] : 0))
        }
        return difference == 0
    }

    /// 127.x.x.x, localhost and [::1], with or without a port.
    static func isLoopback(authority: String?) -> Bool {
        guard var host = authority?.lowercased() else { return false }
        if host.hasPrefix("[") {
            host = String(host.dropFirst().prefix { $0 != "]" })
        } else if let colon = host.lastIndex(of: ":") {
            host = String(host[..<colon])
        }
        return host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    static func refuse(_ status: HTTPResponse.Status, _ message: String) -> Response {
        Response(
            status: status, headers: [.contentType: "text/plain; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: message + "\n")))
    }
}

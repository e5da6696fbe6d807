/// The NOTIFY channels Porter uses. Other clients LISTEN on them, so their names are a promise.
///
/// In SQL, the enqueue functions and triggers send `porter_enqueue` and the job-event
/// functions `porter_realtime` (schema/porter.sql shows each use).
public enum PorterChannel {
    /// Job events (`started`, `finished`, ...), progress and `publish_realtime` events, as JSON
    /// (`RealtimeEvent`), sent when their transaction commits.
    public static let realtime = "porter_realtime"
    /// A job became runnable: the payload is its queue. Workers LISTEN to wake that queue's
    /// claimers.
    public static let enqueue = "porter_enqueue"
    /// A cancel was requested: the payload is the job's id. The worker running it stops it.
    public static let cancel = "porter_cancel"
}

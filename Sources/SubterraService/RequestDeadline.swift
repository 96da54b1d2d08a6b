import HummingbirdCore
import NIOCore
import NIOHTTPTypes

/// Closes a connection whose client takes longer than ``limit`` to deliver a whole request:
/// counted from the connection's start, or from the end of the last response when no request is
/// being answered. A slow client (headers or body trickled a byte at a time, or a connection
/// opened and left) then holds a socket and a handler for at most ``limit``, where an idle
/// timeout alone is reset by every byte and never fires.
///
/// Where: after Hummingbird's HTTP/1 decoder (``HTTPServerBuilder/http1(configuration:)``'s
/// additional handlers), so it sees whole request heads and ends, and response ends.
///
/// Invariant: the timer runs exactly when no complete request awaits its response
/// (`awaiting == 0`); a handler still working on a request is never cut off by it. The close
/// ends the request body stream with an error, which the route answers on a closed channel.
final class RequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let limit: TimeAmount
    private var timer: Scheduled<Void>?
    /// Requests received whole whose response has not ended yet.
    private var awaiting = 0

    init(limit: TimeAmount) { self.limit = limit }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        if timer == nil { arm(context) }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .end = unwrapInboundIn(data) {
            awaiting += 1
            disarm()
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            awaiting = max(awaiting - 1, 0)
            if awaiting == 0 { arm(context) }
        }
        context.write(data, promise: promise)
    }

    func channelInactive(context: ChannelHandlerContext) {
        disarm()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) { disarm() }

    private func arm(_ context: ChannelHandlerContext) {
        disarm()
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: limit) { [weak self] in
            guard let self, self.awaiting == 0 else { return }
            context.close(promise: nil)
        }
    }

    private func disarm() {
        timer?.cancel()
        timer = nil
    }
}

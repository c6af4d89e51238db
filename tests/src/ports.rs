//! Loopback ports held for a test. Asking the OS for a free port, releasing it and
//! binding it again later races with every other process on the machine (another
//! test may take it in between); a [`ReservedPort`] stays bound the whole time.
use tokio::net::TcpSocket;

/// A loopback port the OS had free, released again: for programs that cannot take
/// a socket from the test (nginx, redis-server, chromedriver). Another process may
/// take it first, so callers retry on a new one when theirs fails to start.
pub fn released_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a loopback port")
        .port()
}

/// A loopback port bound but not listening: connections to it are refused (as to a
/// server that is down) and no other process can take it until the test listens on
/// it with [`ReservedPort::listen`] or drops it.
pub struct ReservedPort {
    socket: TcpSocket,
    pub port: u16,
}

impl ReservedPort {
    /// Binds a port the OS picks on 127.0.0.1.
    pub fn new() -> Self {
        let socket = TcpSocket::new_v4().expect("socket");
        socket
            .bind(([127, 0, 0, 1], 0).into())
            .expect("bind a loopback port");
        let port = socket.local_addr().expect("local address").port();
        Self { socket, port }
    }

    /// Starts listening on the held port (the server comes up); call within a tokio
    /// runtime. The listener is blocking, for servers that run on threads.
    pub fn listen(self) -> std::io::Result<std::net::TcpListener> {
        let listener = self.socket.listen(1024)?.into_std()?;
        listener.set_nonblocking(false)?;
        Ok(listener)
    }
}

impl Default for ReservedPort {
    fn default() -> Self {
        Self::new()
    }
}

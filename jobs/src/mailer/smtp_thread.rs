//! lettre on a thread of its own, with a single-threaded runtime of its own.
//!
//! A worker process runs on one thread (see `api/src/cli/process.rs`), and lettre's
//! part of an email (building the message, encoding its bodies, the SMTP exchange)
//! was most of that thread's work: the database's replies and the SMTP server's
//! waited for each other's turn on it, and the drain kept 1.53–1.61 of 2 cores busy.
//! With the SMTP side here, the queue and the database keep the worker's thread and
//! the two run side by side: 1.65–1.81 cores busy against 1.47–1.61, one worker
//! 0.43–0.56 of bare lettre against 0.37–0.44 (`bench pipeline`, eleven alternated
//! pairs on 2 cores; `bench/NOTES.md`, pipeline notes item 24). lettre's
//! connections, its pool and the pool's cleanup all live on this thread's runtime,
//! which is the one they are used from.
//!
//! The thread ends once every handle is dropped, and with it whatever it still ran:
//! a caller waiting for an answer holds a handle, so no send is cut off that anyone
//! still waits for, nor one whose caller gave up while the mailer lives.
use futures::future::BoxFuture;
use lettre::transport::smtp::AsyncSmtpTransportBuilder;
use lettre::{AsyncSmtpTransport, Tokio1Executor};
use tokio::sync::{mpsc, oneshot};

type SmtpTransport = AsyncSmtpTransport<Tokio1Executor>;
type Job = Box<dyn FnOnce(SmtpTransport) -> BoxFuture<'static, ()> + Send>;

/// Where work for the SMTP thread is handed over; cloned with the mailer.
#[derive(Clone)]
pub(super) struct SmtpThread {
    jobs: mpsc::UnboundedSender<Job>,
}

impl SmtpThread {
    /// Starts the thread; the transport is built there, so that everything lettre
    /// spawns runs on its runtime.
    pub(super) fn start(builder: AsyncSmtpTransportBuilder) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (jobs, mut waiting) = mpsc::unbounded_channel::<Job>();
        std::thread::Builder::new()
            .name("smtp".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let transport = builder.build();
                    while let Some(job) = waiting.recv().await {
                        tokio::spawn(job(transport.clone()));
                    }
                });
            })?;
        Ok(Self { jobs })
    }

    /// Runs `work` with the transport on the SMTP thread; its answer, or `None`
    /// when there is none (`work` panicked, or the thread stopped). Once handed
    /// over, `work` runs to its end even if the caller stops waiting (as long as
    /// the mailer lives): a send is never cut off midway by a caller that went away.
    pub(super) async fn run<T, Fut>(
        &self,
        work: impl FnOnce(SmtpTransport) -> Fut + Send + 'static,
    ) -> Option<T>
    where
        T: Send + 'static,
        Fut: Future<Output = T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |transport| {
            Box::pin(async move {
                let _ = reply.send(work(transport).await);
            })
        });
        self.jobs.send(job).ok()?;
        answer.await.ok()
    }
}

#[cfg(test)]
mod tests {
    use super::SmtpThread;
    use lettre::{AsyncSmtpTransport, Tokio1Executor};
    use std::time::Duration;
    use tokio::sync::oneshot;

    fn started() -> SmtpThread {
        let builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1");
        SmtpThread::start(builder).expect("the SMTP thread starts")
    }

    #[tokio::test]
    async fn work_runs_on_the_smtp_thread_and_one_that_panics_answers_nothing_but_ends_nothing() {
        let thread = started();
        let on = |_| async { std::thread::current().name().map(str::to_owned) };
        assert_eq!(thread.run(on).await, Some(Some("smtp".to_owned())));
        let panicked: Option<()> = thread.run(|_| async { panic!("a send panics") }).await;
        assert_eq!(panicked, None);
        assert_eq!(thread.run(|_| async { 7 }).await, Some(7), "still serving");
    }

    #[tokio::test]
    async fn work_handed_over_runs_to_its_end_when_its_caller_stops_waiting() {
        let thread = started();
        let (finished, finishing) = oneshot::channel();
        let slow = move |_| async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let _ = finished.send(());
        };
        let gave_up = tokio::time::timeout(Duration::from_millis(5), thread.run(slow)).await;
        assert!(gave_up.is_err(), "the caller stopped waiting");
        finishing
            .await
            .expect("the work ran to its end all the same");
    }
}

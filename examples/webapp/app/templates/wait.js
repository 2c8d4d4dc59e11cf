// wait.js: the page waiting for the phone (an enrolment, or a request to
// approve) asks /push/status every second and goes on by itself, by
// submitting its form, once the phone has answered. Without JavaScript
// the form's button does the same.
"use strict";
(function () {
	const form = document.getElementById("push-form");
	if (!form) {
		return;
	}
	let submitted = false;
	async function poll() {
		if (submitted) {
			return;
		}
		try {
			const r = await fetch("/push/status", { credentials: "same-origin", cache: "no-store" });
			if (r.ok) {
				const s = await r.json();
				if (s.done) {
					submitted = true;
					form.submit();
					return;
				}
				if (!s.waiting) {
					return; // the step is over (another tab finished it)
				}
			}
		} catch (e) {
			// the server is restarting: try again
		}
		setTimeout(poll, 1000);
	}
	setTimeout(poll, 500);
})();

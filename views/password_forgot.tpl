% rebase('base.tpl')
<section class="panel narrow">
  <h1>Forgot your password?</h1>
  % if get('sent'):
  <div class="flash flash-success" role="status">{{sent}}</div>
  <p class="muted">No email after a few minutes? Check the address, and your spam folder, then <a href="/password/forgot">ask again</a>.</p>
  % else:
  <p>Enter the email address of your account, and we will email you a link to choose a new password.</p>
  <form method="post" action="/password/forgot" class="stack">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    % include('_field.tpl', name='email', label='Email', type='email', value=form.get('email'), required=True, attrs='autocomplete="email"')
    <button class="button" type="submit">Email me a link</button>
  </form>
  % end
  <p class="muted">Remembered it? <a href="/login">Log in</a>.</p>
</section>

% rebase('base.tpl')
<section class="panel narrow">
  <h1>Log in</h1>
  % if errors.get('password'):
  <div class="flash flash-error" role="alert">{{errors['password']}}</div>
  % end
  <form method="post" action="/login" class="stack">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <input type="hidden" name="next" value="{{form.get('next', '')}}">
    % include('_field.tpl', name='email', label='Email', type='email', value=form.get('email'), required=True, attrs='autocomplete="email"', errors={})
    % include('_field.tpl', name='password', label='Password', type='password', value='', required=True, attrs='autocomplete="current-password"', errors={})
    <button class="button" type="submit">Log in</button>
  </form>
  <p class="muted"><a href="/password/forgot">Forgot your password?</a></p>
  <p class="muted">New here? <a href="/register">Create an account</a>.</p>
</section>

% rebase('base.tpl')
<section class="panel narrow">
  <h1>Choose a new password</h1>
  % if get('unusable'):
  <div class="flash flash-error" role="alert">{{unusable}}</div>
  <p><a class="button" href="/password/forgot">Ask for a new link</a></p>
  % else:
  % if errors.get('_'):
  <div class="flash flash-error" role="alert">{{errors['_']}}</div>
  % end
  <form method="post" action="/password/reset/{{token}}" class="stack">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    % include('_field.tpl', name='password', label='New password', type='password', value='', required=True, hint='At least 8 characters. Your account is then logged out everywhere else.', attrs='autocomplete="new-password" minlength="8"')
    <button class="button" type="submit">Set new password</button>
  </form>
  % end
</section>

<?php
/**
 * Plugin Name: syndication (partner side)
 * Description: Lets the syndication pipeline find the copy it made of a post (so a crash can never
 *              make a duplicate) and carry the SEO choice the partner agreed to.
 * Version: 1.0
 *
 * Install: copy this file to wp-content/mu-plugins/ (must-use plugins need no activation).
 *
 * - post meta `syndication_source_guid`: the original post's identity + language, written by the
 *   pipeline; `GET /wp-json/wp/v2/posts?source_guid=...` (authenticated) finds posts by it.
 * - post meta `syndication_canonical`: when set, the page's <link rel="canonical"> points there
 *   (the original) instead of to itself.
 * - post meta `syndication_robots`: `noindex` adds a robots noindex to the page.
 * - post meta `syndication_lang` (the copy's language, BCP 47), `syndication_source_url`,
 *   `syndication_source_lang` and `syndication_source_key` (the original post): the page's
 *   <html lang> says the copy's language, and <link rel="alternate" hreflang> names the original
 *   and every other published translation of the same original on this site; the REST API shows
 *   the language as the field `syndication_lang` (readable by anyone, like the post itself).
 */

add_action('init', function () {
    $can_edit = function () { return current_user_can('edit_posts'); };
    $keys = [
        'syndication_source_guid', 'syndication_canonical', 'syndication_robots',
        'syndication_lang', 'syndication_source_url', 'syndication_source_lang', 'syndication_source_key',
    ];
    foreach ($keys as $key) {
        register_post_meta('post', $key, [
            'type' => 'string',
            'single' => true,
            'show_in_rest' => true,
            'auth_callback' => $can_edit,
        ]);
    }
});

add_filter('rest_post_collection_params', function ($params) {
    $params['source_guid'] = [
        'description' => 'Limit results to the copy of this syndicated source post.',
        'type' => 'string',
    ];
    return $params;
});

add_filter('rest_post_query', function ($args, $request) {
    $guid = $request->get_param('source_guid');
    if (is_string($guid) && $guid !== '') {
        $args['meta_query'] = [['key' => 'syndication_source_guid', 'value' => $guid]];
    }
    return $args;
}, 10, 2);

add_action('wp', function () {
    if (!is_singular('post')) {
        return;
    }
    $canonical = get_post_meta(get_queried_object_id(), 'syndication_canonical', true);
    if (is_string($canonical) && $canonical !== '') {
        remove_action('wp_head', 'rel_canonical');
        add_action('wp_head', function () use ($canonical) {
            echo '<link rel="canonical" href="' . esc_url($canonical) . '" />' . "\n";
        });
    }
});

add_filter('wp_robots', function ($robots) {
    if (is_singular('post')
        && get_post_meta(get_queried_object_id(), 'syndication_robots', true) === 'noindex') {
        $robots['noindex'] = true;
        $robots['follow'] = true;
    }
    return $robots;
});

/** The language tag of a syndicated post ('' for the partner's own posts). */
function syndication_post_lang($post_id) {
    $lang = get_post_meta($post_id, 'syndication_lang', true);
    return (is_string($lang) && preg_match('/^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/', $lang)) ? $lang : '';
}

add_action('rest_api_init', function () {
    register_rest_field('post', 'syndication_lang', [
        'get_callback' => function ($post) {
            $lang = syndication_post_lang($post['id']);
            return $lang === '' ? null : $lang;
        },
        'schema' => [
            'description' => 'Language of a syndicated translation (BCP 47), null for other posts.',
            'type' => ['string', 'null'],
            'context' => ['view', 'edit', 'embed'],
            'readonly' => true,
        ],
    ]);
});

add_filter('language_attributes', function ($output) {
    if (!is_singular('post')) {
        return $output;
    }
    $lang = syndication_post_lang(get_queried_object_id());
    if ($lang === '') {
        return $output;
    }
    $attribute = 'lang="' . esc_attr($lang) . '"';
    $count = 0;
    $output = preg_replace('/\blang="[^"]*"/', $attribute, $output, 1, $count);
    return $count ? $output : trim($output . ' ' . $attribute);
});

add_action('wp_head', function () {
    if (!is_singular('post')) {
        return;
    }
    $id = get_queried_object_id();
    $lang = syndication_post_lang($id);
    $key = get_post_meta($id, 'syndication_source_key', true);
    if ($lang === '' || !is_string($key) || $key === '') {
        return;
    }
    $links = [$lang => get_permalink($id)];
    $siblings = get_posts([
        'post_type' => 'post',
        'post_status' => 'publish',
        'posts_per_page' => 50,
        'post__not_in' => [$id],
        'meta_query' => [['key' => 'syndication_source_key', 'value' => $key]],
        'fields' => 'ids',
    ]);
    foreach ($siblings as $sibling) {
        $other = syndication_post_lang($sibling);
        if ($other !== '' && !isset($links[$other])) {
            $links[$other] = get_permalink($sibling);
        }
    }
    $source = get_post_meta($id, 'syndication_source_url', true);
    $source_lang = get_post_meta($id, 'syndication_source_lang', true);
    if (is_string($source) && $source !== '' && is_string($source_lang) && $source_lang !== ''
        && !isset($links[$source_lang])) {
        $links[$source_lang] = $source;
    }
    foreach ($links as $code => $url) {
        echo '<link rel="alternate" hreflang="' . esc_attr($code) . '" href="' . esc_url($url) . '" />' . "\n";
    }
});
